# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage for provision-storage (ACK guide, section 4): validation and objects, pure Python.

Two entry points, both pure (no API calls, stdlib only):

``plan.build_plan(params: dict) -> dict``
    ``params`` holds the keys below (other top-level keys, e.g. a module's
    connection options, are ignored; unknown keys *inside* items are refused).
    Returns::

        {"objects":  [manifests in apply order: Secrets, StorageClasses,
                      PersistentVolumes, PersistentVolumeClaims, Services,
                      StatefulSets; each kind in input order],
         "warnings": ["<object>: <text>", ...],
         "volumes":  [{"name", "namespace", "type": disk|nas|oss,
                       "kind": static|dynamic, "class" ("" for static),
                       "size", "access_modes", "pv" (None until bound for
                       dynamic), "pvc"}, ...]}

    Claims of StatefulSet templates appear in ``volumes`` once per ordinal
    (``<template>-<statefulset>-<ordinal>``).

``migrate.plan_flex_migration(cluster: dict, options: dict) -> dict``
    flexVolume PVs/PVCs/StorageClasses as read from the API -> their CSI
    equivalents, one step per PV; documented in ``migrate.py``.

Bad input raises ``schema.StorageInputError`` (a ``RunbookError``, type
``input``) with ``obj`` = ``volume <name>`` | ``storage class <name>`` |
``claim <ns>/<name>`` | ``statefulset <ns>/<name>`` | ``secret <name>`` |
``storage plan``, ``field`` = the key path (``storage_classes[2].performance_level``)
and a cause ending in ``allowed: ...``; ``details["allowed"]`` lists the
allowed values when they are a list. The first problem found is raised.
No secret value is ever part of a message, a warning or a summary row.

Top-level keys
==============

================  ==========================================================
region            str, required. Region id (``cn-hangzhou``).
zones             list of str, required. The cluster's zones (where it has
                  nodes); each must belong to ``region``.
driver            ``csi`` (default) | ``flexvolume``: the legacy
                  ``alicloud/disk|nas|oss`` forms, for clusters still on it.
secrets           list of secret items (AccessKey pairs for OSS).
storage_classes   list of class items.
existing_storage_classes
                  list of classes already in the cluster (ACK's
                  alicloud-disk-essd, ...) that claims may name; nothing
                  is written for them: ``name`` (required), ``type``
                  (disk default | nas | oss), and for disk ``category`` /
                  ``performance_level`` to check claim sizes.
volumes           list of static volume items (PV + PVC).
claims            list of dynamic claim items (PVC against a class).
statefulsets      list of statefulset items (headless Service + StatefulSet).
================  ==========================================================

Sizes: an int is GiB (``20``); a string is a whole-number quantity
(``20Gi``, ``500Mi``, ``1Ti``, ``100G``). Booleans: true/false (or yes/no).
``labels``: dict of valid label keys/values, added to the objects made.
Namespaces default to ``default``.

secrets[]
---------
=================  =========================================================
name               required, DNS subdomain; what ``secret`` keys refer to.
namespace          default ``default``; where the Secret lives
                   (nodePublishSecretRef points there).
access_key_id      AccessKey id (secret: never echoed). Required unless existing.
access_key_secret  AccessKey secret (never echoed). Required unless existing.
existing           bool, default false: the Secret is already in the cluster
                   (keys ``akId``/``akSecret``); nothing is written, no values.
labels             dict.
=================  =========================================================
Rendered as ``v1 Secret`` type Opaque, ``data: {akId, akSecret}`` (base64),
the keys pkg/oss/utils.go parseCredentialsFromSecret reads.

storage_classes[] (common keys)
-------------------------------
======================  ====================================================
name                    required, DNS subdomain.
type                    ``disk`` (default) | ``nas`` | ``oss``.
reclaim_policy          ``Delete`` (default) | ``Retain``; NAS sharepath and
                        OSS classes: ``Retain`` only (default Retain).
volume_binding_mode     ``Immediate`` | ``WaitForFirstConsumer``. Default
                        WaitForFirstConsumer when the class spans several
                        zones (then required), else Immediate.
allow_volume_expansion  bool; default true for disk, false otherwise.
default                 bool: annotate as the cluster's default class.
mount_options           list of str (StorageClass.mountOptions).
labels                  dict.
======================  ====================================================

type disk (provisioner ``diskplugin.csi.alibabacloud.com``; flexvolume:
``alicloud/disk``)

==============================  ============================================
zones                           list, default all ``zones``; each a cluster
                                zone. Rendered as ``zoneId`` and
                                allowedTopologies ``topology.kubernetes.io/zone``.
category                        required: str or list tried in order, from
                                cloud, cloud_efficiency, cloud_ssd, cloud_essd,
                                cloud_essd_xc0, cloud_essd_xc1, cloud_auto,
                                cloud_essd_entry, cloud_regional_disk_auto,
                                elastic_ephemeral_disk_standard|premium,
                                cloud_pperf, cloud_sperf, or ``available``
                                alone (= cloud_ssd then cloud_efficiency).
                                flexvolume: cloud, cloud_efficiency,
                                cloud_ssd, cloud_essd, available.
performance_level               str or list of PL0..PL3; only with cloud_essd.
provisioned_iops                int >= 0; only with cloud_auto.
bursting_enabled                bool; only with cloud_auto.
fs_type                         ext4 (default) | ext3 | xfs | ntfs.
encrypted                       bool.
kms_key_id                      str; needs encrypted.
resource_group_id               str.
tags                            dict -> ``diskTags/<key>`` parameters.
volume_size_auto_available      bool: requests below 20 GiB become 20 GiB.
multi_attach                    bool: allows ReadOnlyMany/ReadWriteMany (Block).
read_only                       bool.
delete_snapshot_retention_days  int 1..65536.
==============================  ============================================
Claim sizes are checked per category (and level): cloud_efficiency,
cloud_ssd, cloud_essd 20..65536 GiB (PL0 1.., PL1 20.., PL2 461..,
PL3 1261..), cloud_auto 1.., cloud_essd_entry 10.., cloud_essd_xc0/1 40..,
cloud_regional_disk_auto 10.., elastic ephemeral 64..8192.

type nas (``nasplugin.csi.alibabacloud.com``; CSI only)

=================  =========================================================
volume_as          ``subpath`` (default) | ``sharepath`` | ``filesystem``.
server             subpath/sharepath, required: mount target host (no path).
path               subpath/sharepath: directory, default ``/``.
vers               ``3`` (default) | ``4.0`` (3.0 and 4 accepted as aliases).
mode, mode_type    octal mode (``755``) and recursive | non-recursive;
                   warned as slow on large volumes; refused on ``/`` for
                   sharepath and with filesystem.
archive_on_delete  subpath: bool (false deletes the directory with the PV).
volume_capacity    subpath: bool, enforce the claim size as a quota.
zones              filesystem: exactly one zone.
file_system_type   filesystem: ``standard`` (default) | ``extreme`` (claims
                   >= 100Gi, NFS 3 only).
storage_type       filesystem: Performance|Capacity (standard), standard|advance (extreme).
vpc_id, vswitch_id filesystem: required.
access_group_name  filesystem: str.
delete_volume      filesystem: bool, delete the file system with the PV.
encrypt_type       filesystem extreme: ``0`` | ``1``.
=================  =========================================================

type oss (``ossplugin.csi.alibabacloud.com``; CSI only): the OSS keys below,
plus ``volume_as`` ``sharepath`` | ``subpath`` | ``direct``. Reclaim policy Retain only.

OSS keys (classes and volumes)
------------------------------
=================  =========================================================
bucket             required, bucket name.
url                required, endpoint (``oss-cn-hangzhou-internal.aliyuncs.com``,
                   optional http(s)://); a bucket domain (``<bucket>.oss-...``)
                   is refused.
path               default ``/``; must start with ``/``.
other_opts         list of ``-o name[=value]`` items, or one string of them.
fuse_type          ``ossfs`` | ``ossfs2``.
auth_type          ``secret`` (default: needs ``secret``) | ``rrsa`` (role_name,
                   or role_arn + oidc_provider_arn) | ``sts`` (optional
                   role_name); flexvolume: ``daemon`` only (the plugin's own key).
secret             name of a secrets item -> nodePublishSecretRef (volumes) or
                   the node-publish-secret parameters (classes).
role_name, role_arn, oidc_provider_arn  see auth_type.
encrypted          ``kms`` | ``aes256`` (ossfs only); kms_key_id with kms.
=================  =========================================================
Keys such as akId/akSecret/access_key_secret in a volume or class are refused.

volumes[] (static: a PV and a PVC bound by the ``alicloud-pvname`` selector)
-----------------------------------------------------------------------------
Common: ``name`` (required, the PVC name), ``namespace``, ``type``
(required: disk | nas | oss), ``size`` (disk required; nas/oss default 20Gi),
``access_modes``, ``reclaim_policy`` (default Retain), ``labels``.

- disk: ``disk_id`` (required, ``d-...``; also the PV name), ``zone``
  (required, a cluster zone; PV nodeAffinity ``topology.kubernetes.io/zone``),
  ``fs_type``, ``category`` / ``performance_level`` (optional, checks the
  size); access modes ReadWriteOnce (default) | ReadWriteOncePod.
- nas: ``server``, ``path``, ``vers``, ``mount_options`` (no vers=),
  ``mode``, ``mode_type``, ``pv_name`` (default: name); RWX default.
- oss: the OSS keys, ``pv_name`` (default: name); RWX default, ROX, RWO.

claims[] (dynamic)
------------------
``name`` (required), ``namespace``, ``storage_class`` (required, a class of
``storage_classes`` or ``existing_storage_classes``), ``size`` (required, within the class's limits),
``access_modes`` (default RWO for disk, RWX for nas/oss), ``volume_mode``
(Filesystem | Block, Block for disk only), ``labels``.

statefulsets[]
--------------
=======================  ===================================================
name                     required, DNS label of at most 52 characters.
namespace                default ``default``.
replicas                 int >= 0, default 1.
image                    required.
container_name           default: name.
command, args            list of str.
env                      dict name -> value (not for secrets).
ports                    list of int or {name, port, protocol}.
resources                {requests: {...}, limits: {...}}.
service_name             headless Service name, default: name.
pod_management_policy    OrderedReady (default) | Parallel.
volume_claim_templates   list of {name, storage_class, size, access_modes,
                         volume_mode, mount_path}.
mounts                   list of {claim (a volume or claim of the plan in the
                         same namespace), mount_path, read_only}.
oss_liveness_probe       bool: the guide's ``cd <mount>`` liveness probe for
                         OSS mounts (refused without one).
labels                   dict; ``app: <name>`` is the selector.
=======================  ===================================================
The StatefulSet keeps claims on scale-in and delete
(persistentVolumeClaimRetentionPolicy Retain).
"""
