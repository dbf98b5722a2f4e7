# @summary A Linux network interface name: 1 to 15 printable ASCII characters, no '/', ':' or
#   spaces, not `.` or `..` (the kernel's `dev_valid_name`).
type Pacemaker::Nic = Pattern[/\A(?!\.\.?\z)[!-.0-9;-~]{1,15}\z/]
