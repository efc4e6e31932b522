#!/.lab/busybox sh
# Stage 1 of the lab guest, run by the kernel as /init (kernel_t): mount the kernel file
# systems, load the policy with one write, enforce, give the directories listed in
# /.lab/mounts their labels (a tmpfs mounted with context=), load the kernel modules, then
# exec stage 2 from a tmpfs labelled init_exec_t, which enters init_t as systemd would.
BB=/.lab/busybox
$BB mkdir -p /proc /sys /dev /tmp /run
$BB mount -t proc proc /proc
$BB mount -t sysfs sys /sys
$BB mount -t devtmpfs dev /dev
$BB mount -t selinuxfs selinuxfs /sys/fs/selinux
say() { echo "SELKIT-LAB $1" > /dev/ttyS1; }
# The kernel prints AVCs (no auditd here) through printk_ratelimit(): turn the limit off.
echo 0 > /proc/sys/kernel/printk_ratelimit
say '{"step": "stage1"}'
# One write(): busybox cat writes in chunks and the kernel then refuses the policy.
if ! $BB dd if=/.lab/policy.33 of=/sys/fs/selinux/load bs=16M 2>/dev/null; then
    say '{"step": "policy", "error": "policy load failed"}'
    echo "SELKIT-LAB-DONE" > /dev/ttyS1
    $BB poweroff -f
fi
. /.lab/config.sh
echo "$LAB_ENFORCE" > /sys/fs/selinux/enforce
# devtmpfs gives every character device event_device_t (type_transition kernel_t device_t);
# give the nodes the daemons use their real labels: each is made on a tmpfs mounted with
# that label and bind-mounted over the devtmpfs node.
while read -r node type major minor; do
    [ -n "$node" ] || continue
    $BB mkdir -p "/.lab/dev/$type" "$($BB dirname "$node")"
    if [ ! -e "/.lab/dev/$type.mounted" ]; then
        $BB mount -t tmpfs -o "mode=755,context=system_u:object_r:$type:s0" lab "/.lab/dev/$type"
        $BB touch "/.lab/dev/$type.mounted"
    fi
    name=$($BB basename "$node")
    $BB mknod -m 666 "/.lab/dev/$type/$name" c "$major" "$minor"
    [ -e "$node" ] || $BB touch "$node"
    $BB mount --bind "/.lab/dev/$type/$name" "$node"
done < /.lab/devices
# "context": every file on the tmpfs has the label (binaries, libraries, configuration);
# "rootcontext": only the directory has it and new files are labelled by the policy's type
# transitions, as on a real system (/run, /var/log, jails).
while read -r mnt type how; do
    [ -n "$mnt" ] || continue
    $BB mkdir -p "$mnt" "/.lab/stage$mnt"
    $BB mount -t tmpfs -o "mode=755,${how:-context}=system_u:object_r:$type:s0" lab "$mnt"
    $BB cp -a "/.lab/stage$mnt/." "$mnt/"
done < /.lab/mounts
# Single files with a label of their own in a directory labelled otherwise (/etc/shadow,
# shadow_t, in /etc, etc_t): each is kept on a tmpfs mounted with its label and bind-mounted
# onto its path, so reaching it takes only what reaching its directory takes.
while read -r path type; do
    [ -n "$path" ] || continue
    $BB mkdir -p "/.lab/bind/$type"
    if [ ! -e "/.lab/bind/$type.mounted" ]; then
        $BB mount -t tmpfs -o "mode=755,context=system_u:object_r:$type:s0" lab "/.lab/bind/$type"
        $BB touch "/.lab/bind/$type.mounted"
    fi
    name=$($BB basename "$path")
    $BB cp -a "/.lab/bound$path" "/.lab/bind/$type/$name"
    [ -e "$path" ] || $BB touch "$path"
    $BB mount --bind "/.lab/bind/$type/$name" "$path"
done < /.lab/bound-files
for ko in /.lab/modules/*.ko; do
    [ -e "$ko" ] && $BB insmod "$ko"
done
exec /lab/harness/stage2.sh
