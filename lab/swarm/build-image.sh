#!/usr/bin/env bash
# Build the lab Swarm's only image from Debian's busybox-static binary and
# import it into a dockerd (no image registry is reachable from the lab).
#   build-image.sh DOCKER_HOST IMAGE
# The root file system: /bin/busybox, a link per applet where busybox would
# install it (/bin/sh, /bin/sleep, /usr/sbin/httpd, /usr/bin/wget, ...), and
# the /etc files, directories and PATH a service command expects.
set -euo pipefail
docker_host=${1:?usage: build-image.sh DOCKER_HOST IMAGE}
image=${2:?usage: build-image.sh DOCKER_HOST IMAGE}
busybox=/bin/busybox
if ! "$busybox" --list-full >/dev/null 2>&1; then
    echo "build-image: $busybox is missing or not busybox (install busybox-static)" >&2
    exit 1
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,var/www,data,run}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
"$busybox" --list-full | while read -r applet; do
    [[ $applet == bin/busybox || -e $rootfs/$applet ]] && continue
    mkdir -p "$rootfs/$(dirname "$applet")"
    ln -s /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
# awk reads all of busybox's output: `head -1` would close the pipe early, and
# busybox's SIGPIPE fails the assignment under pipefail (exit 141).
version=$("$busybox" 2>&1 | awk 'NR == 1 {print $2}')
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -c . |
    /usr/bin/docker -H "$docker_host" import \
        -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["sh"]' \
        -c "LABEL org.opencontainers.image.title=lab-busybox org.opencontainers.image.version=$version" \
        -m "lab image from busybox-static $version" - "$image" >/dev/null
echo "build-image: $image from busybox $version" >&2
