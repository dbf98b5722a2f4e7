# @summary A scheduler flag (`ipvsadm -b`): sh-* for the sh scheduler, mh-* for mh.
type Pacemaker::Schedulerflag = Enum['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port']
