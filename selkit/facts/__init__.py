"""Facts about the kernel and the policy language that several layers read: the syscall table
(which permission gates which system call), the system call numbers of the x86 ABIs (for the
seccomp filters) and SETools' permission map (which way information flows through each
permission). Plain data and its readers; nothing here analyses a policy."""
