# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OSS buckets mounted through ossfs: static PV/PVC pairs and dynamic classes.

Credentials only ever travel as a reference to a Secret (nodePublishSecretRef,
or the node-publish-secret parameters of a class) or as a role (RRSA, STS);
an AccessKey written into a volume or a class is refused without echoing it.
Rules from kubernetes-sigs/alibaba-cloud-csi-driver pkg/oss and
pkg/mounter/fuse_pod_manager/oss; each names its file.
"""

from __future__ import annotations

import re

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import (
    CLASS_KEYS,
    CSI_DRIVERS,
    CSI_PUBLISH_SECRET_NAME,
    CSI_PUBLISH_SECRET_NAMESPACE,
    FLEX_DRIVERS,
    ClassSpec,
    Context,
    access_modes,
    class_common,
    pv_manifest,
    reclaim_policy,
    static_pvc,
    storage_class_manifest,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.storage.schema import (
    Item,
    Size,
    StorageInputError,
    one_of,
)

# pkg/mounter/utils/utils.go OssFsType, OssFs2Type.
FUSE_TYPES = ("ossfs", "ossfs2")
# pkg/mounter/fuse_pod_manager/oss/oss_fuse_pod_manager.go AuthTypeRRSA/STS; "secret"
# is ours for the default (an AccessKey pair in a Secret); "daemon" is the
# flexVolume plugin's own AccessKey (its DaemonSet's Secret), flexVolume only.
AUTH_TYPES = ("secret", "rrsa", "sts")
FLEX_AUTH_TYPES = ("daemon",)
# pkg/mounter/fuse_pod_manager/oss/oss_fuse_pod_manager.go EncryptedTypeKms/Aes256.
ENCRYPTION = ("kms", "aes256")
# pkg/oss/utils.go parseVolumeAsOptions (direct is sharepath's other name);
# bucketspace is refused for dynamic volumes (buildVolumeContext).
VOLUME_AS = ("sharepath", "subpath", "direct")
ACCESS = ("ReadWriteMany", "ReadOnlyMany", "ReadWriteOnce")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ENDPOINT = re.compile(
    r"^(https?://)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?/?$"
)
# Keys under which an AccessKey could be pasted into a volume or a class.
INLINE_KEY_NAMES = (
    "akId",
    "akSecret",
    "ak_id",
    "ak_secret",
    "access_key_id",
    "access_key_secret",
    "accessKeyId",
    "accessKeySecret",
    "AccessKeyId",
    "AccessKeySecret",
)

# ``secret`` names a secrets item; a key pasted there by mistake is not echoed back.
SECRET_NAME_KEYS = ("secret",)
_OSS_KEYS = (
    "bucket",
    "url",
    "path",
    "other_opts",
    "fuse_type",
    "auth_type",
    "secret",
    "role_name",
    "role_arn",
    "oidc_provider_arn",
    "encrypted",
    "kms_key_id",
)
OSS_CLASS_KEYS = (*CLASS_KEYS, *_OSS_KEYS, "volume_as")
OSS_VOLUME_KEYS = (
    "name",
    "namespace",
    "type",
    "pv_name",
    "size",
    "access_modes",
    "reclaim_policy",
    "labels",
    *_OSS_KEYS,
)


def refuse_inline_keys(raw, path: str, obj: str) -> None:
    """An AccessKey written into a volume or class: refused, by key name only."""
    if not isinstance(raw, dict):
        return
    for key in raw:
        if key in INLINE_KEY_NAMES:
            raise StorageInputError(
                "an AccessKey never goes into a volume or a class (it would be readable by anyone "
                "who can read PVs); allowed: put it in a secrets item and reference that item's "
                "name with secret, or use auth_type rrsa/sts",
                obj=obj,
                field=f"{path}.{key}",
            )


def other_opts(item: Item) -> str | None:
    """pkg/oss/utils.go parseOtherOpts: every option comes after -o ("-o a" or "-oa")."""
    raw = item.raw.get("other_opts")
    if raw is None:
        return None
    if isinstance(raw, str):
        words = raw.split()
        index = 0
        while index < len(words):
            word = words[index]
            if word == "-o" and index + 1 < len(words):
                index += 2
            elif word.startswith("-o") and word != "-o":
                index += 1
            else:
                item.fail(
                    "other_opts",
                    f"{word!r} is not preceded by -o; allowed: options written as -o name[=value], "
                    "e.g. '-o max_stat_cache_size=0 -o allow_other'",
                )
        return " ".join(words) or None
    options = item.strings("other_opts")
    for index, option in enumerate(options):
        words = option.split()
        well_formed = (words[0] == "-o" and len(words) == 2) or (
            len(words) == 1 and words[0].startswith("-o") and words[0] != "-o"
        )
        if not well_formed:
            item.fail(
                f"other_opts[{index}]",
                f"{option!r} does not start with -o; allowed: one option per item written as "
                "-o name[=value], e.g. '-o allow_other'",
            )
    return " ".join(options) or None


def endpoint(item: Item, ctx: Context, bucket: str) -> str:
    url = item.text(
        "url", required=True, what="the OSS endpoint, e.g. oss-cn-hangzhou-internal.aliyuncs.com"
    )
    if not ENDPOINT.match(url):
        item.fail(
            "url",
            f"{url!r} is not an endpoint; allowed: a host such as oss-{ctx.region}-internal.aliyuncs.com, optionally with http:// or https://",
        )
    # pkg/oss/utils.go validateEndpoint: "is a bucket domain name, please use endpoint instead".
    host = url.removeprefix("http://").removeprefix("https://")
    if len(url.split(".")) >= 4 and host.startswith(bucket + "."):
        item.fail(
            "url",
            f"{url!r} is the bucket's own domain, which the driver refuses; allowed: the endpoint "
            f"without the bucket, e.g. {host[len(bucket) + 1 :].rstrip('/')}",
        )
    if "aliyuncs.com" in host and f"oss-{ctx.region}" not in host and f"{ctx.region}." not in host:
        ctx.warn(
            item.obj,
            f"endpoint {url} is not in region {ctx.region}: traffic leaves the region and is billed",
        )
    return url


def oss_attributes(item: Item, ctx: Context) -> tuple[dict, object]:
    """(volume attributes / class parameters, the SecretRef or None)."""
    bucket = item.text(
        "bucket",
        required=True,
        pattern=BUCKET,
        what="an OSS bucket name: 3 to 63 lowercase letters, digits and '-'",
    )
    url = endpoint(item, ctx, bucket)
    path = item.text("path", default="/")
    fuse = item.text("fuse_type", choices=FUSE_TYPES)
    if not path.startswith("/"):
        # pkg/oss/utils.go checkOssOptions (ossfs): the path must start with /.
        item.fail(
            "path",
            f"{path!r} does not start with /; allowed: a path in the bucket starting with /, e.g. /models",
        )
    options = other_opts(item)
    encrypted = item.text("encrypted", choices=ENCRYPTION)
    if encrypted and fuse == "ossfs2":
        # pkg/oss/utils.go checkOssOptions: "ossfs2 does not support encryption".
        item.fail(
            "encrypted",
            "ossfs2 does not support server-side encryption; allowed: fuse_type ossfs with encrypted",
        )
    kms_key = item.text("kms_key_id")
    if kms_key and encrypted != "kms":
        item.fail("kms_key_id", "needs encrypted: kms; allowed: set encrypted: kms")
    auth_choices = FLEX_AUTH_TYPES if ctx.flex else AUTH_TYPES
    auth = item.text(
        "auth_type",
        default="daemon" if ctx.flex and not item.has("secret") else "secret",
        choices=(*AUTH_TYPES, *FLEX_AUTH_TYPES),
    )
    if auth not in auth_choices:
        why = (
            "the flexVolume plugin takes an AccessKey only inline in the PV, which this runbook never writes"
            if ctx.flex
            else "daemon is the flexVolume plugin's own AccessKey"
        )
        item.fail(
            "auth_type",
            f"{auth!r} cannot be used with driver {ctx.driver} ({why}); allowed: {one_of(auth_choices)}",
            allowed=list(auth_choices),
        )
    role_name = item.text("role_name")
    role_arn = item.text("role_arn")
    oidc_arn = item.text("oidc_provider_arn")
    ref = None
    if auth == "secret":
        if not item.has("secret"):
            item.fail(
                "secret",
                "an OSS volume needs credentials; allowed: secret: <name of a secrets item holding "
                "the AccessKey pair>, or auth_type rrsa / sts",
            )
        ref = ctx.secret_ref(item, "secret")
    elif item.has("secret"):
        item.fail(
            "secret", f"auth_type {auth} takes no Secret; allowed: drop secret, or auth_type secret"
        )
    if auth != "rrsa" and (role_arn or oidc_arn):
        item.fail(
            "role_arn" if role_arn else "oidc_provider_arn",
            "applies to auth_type rrsa only; allowed: auth_type rrsa",
        )
    if auth == "rrsa":
        # pkg/mounter/fuse_pod_manager/oss/utils.go CheckRRSAParams.
        if bool(role_arn) != bool(oidc_arn):
            item.fail(
                "oidc_provider_arn" if role_arn else "role_arn",
                "RRSA needs role_arn and oidc_provider_arn together; allowed: both, or role_name alone",
            )
        if not role_arn and not role_name:
            item.fail(
                "role_name",
                "RRSA needs a role; allowed: role_name, or role_arn with oidc_provider_arn",
            )
    if auth in ("secret", "daemon") and role_name:
        item.fail("role_name", f"auth_type {auth} takes no role; allowed: auth_type rrsa or sts")
    attributes = {"bucket": bucket, "url": url, "path": path}
    if options:
        attributes["otherOpts"] = options
    if fuse:
        attributes["fuseType"] = fuse
    if auth in ("rrsa", "sts"):
        attributes["authType"] = auth
    for key, value in (
        ("roleName", role_name),
        ("roleArn", role_arn),
        ("oidcProviderArn", oidc_arn),
        ("encrypted", encrypted),
        ("kmsKeyId", kms_key),
    ):
        if value:
            attributes[key] = value
    if auth == "daemon":
        ctx.warn(
            item.obj,
            "credentials come from the flexVolume plugin's own Secret (its DaemonSet); migrate to CSI to scope them per volume",
        )
    return attributes, ref


def oss_volume(item: Item, ctx: Context, name: str, namespace: str) -> tuple[dict, dict, dict]:
    attributes, ref = oss_attributes(item, ctx)
    size = item.size("size", required=False) or Size.parse(20)
    pv_name = item.name("pv_name", required=False, subdomain=True) or name
    modes = access_modes(
        item, "access_modes", ["ReadWriteMany"], ACCESS, "a bucket is shared storage"
    )
    policy = reclaim_policy(item, "Retain")
    labels = item.mapping("labels", labels=True)
    if ctx.flex:
        if attributes["path"] != "/" or set(attributes) - {"bucket", "url", "path", "otherOpts"}:
            extra = sorted(set(attributes) - {"bucket", "url", "path", "otherOpts"}) or ["path"]
            item.fail(
                "path" if extra == ["path"] else "fuse_type",
                f"the flexVolume plugin mounts whole buckets with bucket, url and otherOpts only (not {', '.join(extra)}); allowed: driver csi for those",
            )
        options = {k: v for k, v in attributes.items() if k in ("bucket", "url", "otherOpts")}
        source = {"flexVolume": {"driver": FLEX_DRIVERS["oss"], "options": options}}
    else:
        csi = {
            "driver": CSI_DRIVERS["oss"],
            "volumeHandle": pv_name,
            "volumeAttributes": attributes,
        }
        if ref is not None:
            csi["nodePublishSecretRef"] = ref.reference()
        source = {"csi": csi}
    pv = pv_manifest(pv_name, size, modes, policy, {**labels}, source)
    pvc = static_pvc(name, namespace, pv_name, size, modes, labels)
    return pv, pvc, {"bucket": attributes["bucket"]}


def oss_class(item: Item, ctx: Context) -> ClassSpec:
    if ctx.flex:
        item.fail(
            "type", "dynamic OSS needs the CSI driver; allowed: driver csi, or static volumes"
        )
    common = class_common(
        item,
        ctx,
        zonal=False,
        # pkg/oss/controllerserver.go CreateVolume: "ReclaimPolicy must be Retain".
        reclaim_only="Retain",
        reclaim_why="the OSS driver never deletes bucket data and refuses Delete",
    )
    attributes, ref = oss_attributes(item, ctx)
    parameters = dict(attributes)
    volume_as = item.text("volume_as", choices=VOLUME_AS)
    if volume_as:
        parameters["volumeAs"] = volume_as
    if ref is not None:
        parameters[CSI_PUBLISH_SECRET_NAME] = ref.name
        parameters[CSI_PUBLISH_SECRET_NAMESPACE] = ref.namespace
    manifest = storage_class_manifest(
        common.name,
        CSI_DRIVERS["oss"],
        parameters,
        reclaim=common.reclaim,
        binding=common.binding,
        expansion=common.expansion,
        default=common.default,
        labels=common.labels,
        mount_options=common.mount_options,
    )
    return ClassSpec(
        name=common.name,
        type="oss",
        manifest=manifest,
        default_access_modes=["ReadWriteMany"],
        allowed_access_modes=ACCESS,
        oss=True,
    )
