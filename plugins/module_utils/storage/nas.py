# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NAS (NFS) volumes: static PV/PVC pairs and the dynamic modes (volumeAs).

Rules from kubernetes-sigs/alibaba-cloud-csi-driver pkg/nas; each names its file.
"""

from __future__ import annotations

import re

from ansible_collections.ackops.runbooks.plugins.module_utils.storage.model import (
    ACCESS_MODES,
    CLASS_KEYS,
    CSI_DRIVERS,
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
    one_of,
)

# pkg/nas/controllerserver.go defaultVolumeAs; pkg/nas/*_controller.go VolumeAs().
VOLUME_AS = ("subpath", "sharepath", "filesystem")
# pkg/nas/nodeserver.go: "" and 3.0 mean 3, 4 means 4.0; the guide allows 3 and 4.0.
VERSIONS = ("3", "4.0")
VERSION_ALIASES = {"3": "3", "3.0": "3", "4": "4.0", "4.0": "4.0"}
MODE = re.compile(r"^0?[0-7]{3}$")
# pkg/nas/controllerserver.go: modeType defaults to non-recursive.
MODE_TYPES = ("recursive", "non-recursive")
# pkg/nas/filesystem_controller.go getNasVolumeOptions.
FILE_SYSTEM_TYPES = ("standard", "extreme")
STORAGE_TYPES = {"standard": ("Performance", "Capacity"), "extreme": ("standard", "advance")}
EXTREME_MIN_GIB = 100
ENCRYPT_TYPES = ("0", "1")
# pkg/nas/nodeserver.go isValidServer: a host, or [an IPv6 address]; never host:/path.
HOST = re.compile(
    r"^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$"
)
MODE_WARNING = (
    "mode makes the driver chmod the NAS directory when it is mounted (every file with "
    "mode_type recursive): slow on large volumes, the guide says to avoid it"
)

_MODE_KEYS = ("mode", "mode_type")
NAS_CLASS_KEYS = (
    *CLASS_KEYS,
    "volume_as",
    "server",
    "path",
    "vers",
    *_MODE_KEYS,
    "archive_on_delete",
    "volume_capacity",
    "zones",
    "file_system_type",
    "storage_type",
    "vpc_id",
    "vswitch_id",
    "access_group_name",
    "delete_volume",
    "encrypt_type",
)
NAS_VOLUME_KEYS = (
    "name",
    "namespace",
    "type",
    "pv_name",
    "size",
    "server",
    "path",
    "vers",
    "mount_options",
    *_MODE_KEYS,
    "access_modes",
    "reclaim_policy",
    "labels",
)
# Keys that belong to one volume_as only.
ONLY_FOR = {
    "server": ("subpath", "sharepath"),
    "path": ("subpath", "sharepath"),
    "archive_on_delete": ("subpath",),
    "volume_capacity": ("subpath",),
    "zones": ("filesystem",),
    "file_system_type": ("filesystem",),
    "storage_type": ("filesystem",),
    "vpc_id": ("filesystem",),
    "vswitch_id": ("filesystem",),
    "access_group_name": ("filesystem",),
    "delete_volume": ("filesystem",),
    "encrypt_type": ("filesystem",),
}


def server(item: Item) -> str:
    host = item.text(
        "server",
        required=True,
        what="the NAS mount target host, e.g. 0a1b2c-xyz.cn-hangzhou.nas.aliyuncs.com",
    )
    if ":" in host and not host.startswith("["):
        item.fail(
            "server",
            f"{host!r} holds a path: give the mount target host only and the directory in path; allowed: a host name or [IPv6]",
        )
    if not HOST.match(host):
        item.fail(
            "server",
            f"{host!r} is not a host name; allowed: a host name such as 0a1b2c-xyz.cn-hangzhou.nas.aliyuncs.com",
        )
    return host


def directory(item: Item) -> str:
    path = item.text("path", default="/")
    # pkg/nas/nodeserver.go: "the path format is illegal" unless it starts with /.
    if not path.startswith("/") or "//" in path or "/../" in f"{path}/":
        item.fail(
            "path",
            f"{path!r} is not an absolute directory; allowed: a path starting with /, e.g. /share/app",
        )
    return path.rstrip("/") or "/"


def version(item: Item) -> str:
    raw = item.raw.get("vers")
    if raw is None:
        return "3"
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    if text not in VERSION_ALIASES:
        item.fail(
            "vers",
            f"NFS version {raw!r} is not supported; allowed: {one_of(VERSIONS)}",
            allowed=list(VERSIONS),
        )
    return VERSION_ALIASES[text]


def mount_options(item: Item) -> list[str]:
    options = item.strings("mount_options")
    for index, option in enumerate(options):
        if option.split("=")[0].strip() in ("vers", "nfsvers"):
            item.fail(
                f"mount_options[{index}]",
                "sets the NFS version: use vers instead; allowed: options other than vers/nfsvers",
            )
    return options


def mode(item: Item, ctx: Context, path: str, root_refused: bool) -> tuple[str | None, str | None]:
    value = item.text("mode", what="an octal mode such as 755 or 0775")
    mode_type = item.text("mode_type", choices=MODE_TYPES)
    if value is None:
        if mode_type is not None:
            item.fail(
                "mode_type", "applies only with mode; allowed: set mode too, or drop mode_type"
            )
        return None, None
    if not MODE.match(value):
        item.fail(
            "mode",
            f"{value!r} is not an octal mode; allowed: three octal digits with an optional leading 0, e.g. 755",
        )
    if root_refused and path == "/":
        # pkg/nas/nodeserver.go: "NAS: root directory cannot set mode".
        item.fail(
            "mode",
            "cannot be set on the root directory of the file system; allowed: mode with a path below /",
        )
    ctx.warn(item.obj, MODE_WARNING)
    return value, mode_type


def nas_volume(item: Item, ctx: Context, name: str, namespace: str) -> tuple[dict, dict, dict]:
    """A static NAS PV (RWX by default) and its PVC bound by selector."""
    host = server(item)
    path = directory(item)
    vers = version(item)
    options = mount_options(item)
    mode_value, mode_type = mode(item, ctx, path, root_refused=True)
    size = item.size("size", required=False) or Size.parse(20)
    pv_name = item.name("pv_name", required=False, subdomain=True) or name
    modes = access_modes(
        item, "access_modes", ["ReadWriteMany"], ACCESS_MODES, "NFS serves every mode"
    )
    policy = reclaim_policy(item, "Retain")
    labels = item.mapping("labels", labels=True)
    if ctx.flex:
        flex_options = {"server": host, "path": path, "vers": vers}
        if mode_value:
            flex_options["mode"] = mode_value
        if options:
            flex_options["options"] = ",".join(options)
        source = {"flexVolume": {"driver": FLEX_DRIVERS["nas"], "options": flex_options}}
    else:
        # pkg/nas/nodeserver.go parseVolumeContext: server, path, vers, mode, modeType.
        attributes = {"server": host, "path": path, "vers": vers}
        if mode_value:
            attributes["mode"] = mode_value
        if mode_type:
            attributes["modeType"] = mode_type
        source = {
            "csi": {
                "driver": CSI_DRIVERS["nas"],
                "volumeHandle": pv_name,
                "volumeAttributes": attributes,
            }
        }
        if options:
            source["mountOptions"] = options
    pv = pv_manifest(pv_name, size, modes, policy, labels, source)
    pvc = static_pvc(name, namespace, pv_name, size, modes, labels)
    return pv, pvc, {"server": host, "path": path}


def _extreme_size(size: Size, fail) -> list[str]:
    # pkg/nas/filesystem_controller.go: extreme file systems start at 100 GiB.
    if size.gib < EXTREME_MIN_GIB:
        fail(
            f"size {size.quantity} is below the minimum of an extreme NAS file system; allowed: at least {EXTREME_MIN_GIB}Gi"
        )
    return []


def nas_class(item: Item, ctx: Context) -> ClassSpec:
    if ctx.flex:
        item.fail(
            "type",
            "dynamic NAS needs the CSI driver (the flexVolume plugin provisions nothing); allowed: driver csi, or static volumes",
        )
    volume_as = item.text("volume_as", default="subpath", choices=VOLUME_AS)
    for key, modes_for in ONLY_FOR.items():
        if item.has(key) and volume_as not in modes_for:
            item.fail(
                key,
                f"does not apply to volume_as {volume_as}; allowed: with volume_as {one_of(modes_for)}",
            )
    sharepath = volume_as == "sharepath"
    common = class_common(
        item,
        ctx,
        zonal=volume_as == "filesystem",
        # pkg/nas/sharepath_controller.go: "Use sharepath mode, reclaimPolicy must be Retain".
        reclaim_only="Retain" if sharepath else None,
        reclaim_why="every claim of a sharepath class shares one directory, the driver refuses Delete",
        expansion_default=False,
    )
    vers = version(item)
    options = [f"vers={vers}", *mount_options(item)]
    parameters = {"volumeAs": volume_as}
    check_size = None
    if volume_as in ("subpath", "sharepath"):
        host = server(item)
        path = directory(item)
        # pkg/nas/subpath_controller.go SelectNfsServer parses server as host:path.
        parameters["server"] = f"{host}:{path}"
        mode_value, mode_type = mode(item, ctx, path, root_refused=sharepath)
        if mode_value:
            parameters["mode"] = mode_value
        if mode_type:
            parameters["modeType"] = mode_type
        if volume_as == "subpath":
            archive = item.flag("archive_on_delete", default=None)
            if archive is not None:
                # pkg/nas/subpath_controller.go DeleteVolume: false deletes the directory.
                parameters["archiveOnDelete"] = "true" if archive else "false"
            if item.flag("volume_capacity", default=False):
                parameters["volumeCapacity"] = "true"
    else:
        if len(common.zones) != 1:
            item.fail(
                "zones",
                f"the file system is created in one zone; allowed: exactly one of {one_of(ctx.zones)}",
                allowed=list(ctx.zones),
            )
        fs_type = item.text("file_system_type", default="standard", choices=FILE_SYSTEM_TYPES)
        storage_type = item.text(
            "storage_type", default=STORAGE_TYPES[fs_type][0], choices=STORAGE_TYPES[fs_type]
        )
        if item.has("encrypt_type") and fs_type != "extreme":
            item.fail(
                "encrypt_type",
                "applies to extreme file systems only; allowed: with file_system_type extreme",
            )
        encrypt = item.text("encrypt_type", choices=ENCRYPT_TYPES)
        if fs_type == "extreme" and vers != "3":
            # pkg/nas/nodeserver.go: "Extreme nas only support nfs v3".
            item.fail("vers", "extreme NAS serves NFS 3 only; allowed: 3", allowed=["3"])
        if item.has("mode") or item.has("mode_type"):
            item.fail(
                "mode",
                "a new file system is mounted at its root, where the driver refuses mode; allowed: no mode with volume_as filesystem",
            )
        # networkType defaults to vpc, which needs both ids (filesystem_controller.go).
        vpc = item.text("vpc_id", required=True, what="the VPC of the cluster, e.g. vpc-bp1...")
        vswitch = item.text(
            "vswitch_id", required=True, what="a vSwitch in the zone, e.g. vsw-bp1..."
        )
        parameters.update(
            {
                "fileSystemType": fs_type,
                "storageType": storage_type,
                "protocolType": "NFS",
                "zoneId": common.zones[0],
                "vpcId": vpc,
                "vSwitchId": vswitch,
            }
        )
        group = item.text("access_group_name")
        if group:
            parameters["accessGroupName"] = group
        if item.flag("delete_volume", default=False):
            parameters["deleteVolume"] = "true"
        if encrypt:
            parameters["encryptType"] = encrypt
        if fs_type == "extreme":
            check_size = _extreme_size
        if common.reclaim == "Delete" and not item.flag("delete_volume", default=False):
            ctx.warn(
                item.obj,
                "reclaim_policy Delete without delete_volume: deleting a claim keeps the file system (and its bill)",
            )
    manifest = storage_class_manifest(
        common.name,
        CSI_DRIVERS["nas"],
        parameters,
        reclaim=common.reclaim,
        binding=common.binding,
        expansion=common.expansion,
        default=common.default,
        labels=common.labels,
        mount_options=options,
        # The file system's zone travels as zoneId; NAS is mounted from every zone of the
        # VPC, so no allowedTopologies restricts the pods.
    )
    return ClassSpec(
        name=common.name,
        type="nas",
        manifest=manifest,
        default_access_modes=["ReadWriteMany"],
        allowed_access_modes=ACCESS_MODES,
        check_size=check_size,
    )
