# @summary One big_brother load-balancer cluster: its spec file and its group in the Pacemaker CIB.
#
# Writes `<config_dir>/<supervisor_id>.toml` (the spec big_brother reads; checked with
# `big_brother validate` before it replaces the old one) and makes the cluster's CIB group match
# it with one `exec` of `big_brother crm apply`, guarded by `big_brother crm check`: a run that
# finds the CIB already right changes nothing, so every load balancer can apply the same manifest
# without fighting, and an operator's `target-role=Stopped` stays (apply keeps meta attributes).
#
# The talk's manifest (description, supervisor_id, ip_resources) is accepted as is. Without a
# service (`fwmark`, or `protocol`/`address`/`port`) and `nodes` the cluster is *staged*: its
# group goes into the CIB, and big_brother refuses to start it (OCF_ERR_CONFIGURED, naming what is
# missing) until they are added. Puppet warns about a staged cluster at compile time.
#
# Every optional parameter left undef is left out of the spec, so big_brother's own default
# applies (documented beside each one).
#
# @example The talk's cluster
#   pacemaker::ipvs_resource { 'webapp':
#     description   => 'Braintree Webapp',
#     supervisor_id => 'webapp',
#     ip_resources  => [
#       { 'address' => '204.109.13.7', 'nic' => 'eth10' }
#     ],
#     fwmark        => 7,
#     nodes         => [
#       { 'address' => '10.0.0.1', 'port' => 80 },
#       { 'address' => '10.0.0.2', 'port' => 80 },
#     ],
#   }
#
# @param ip_resources
#   The VIPs, one `ocf:heartbeat:IPaddr2` primitive each: `address`, optional `nic` and
#   `cidr_netmask` (default 32 for IPv4, 128 for IPv6). At least one.
# @param supervisor_id
#   The cluster name: the OCF `cluster` parameter, the spec file's name and the root of every
#   Pacemaker id (`<id>_group`, `ipvs_<id>`). Defaults to the title.
# @param description
#   The group's description in the CIB.
# @param nodes
#   The real servers: `address`, `port` (litmus_paper's port), optional `path` (default
#   `/<supervisor_id>/status`), `real_port` (TCP/UDP services only), `max_weight` (default 100),
#   `priority` (active_passive: lowest serves), `upper_threshold` (no new connections past this
#   many, 0 none) and `lower_threshold` (takes new ones again under this many; at most the upper
#   one). Empty means staged.
# @param fwmark
#   The service as a firewall mark (the talk's `fwmark 7`). Exclusive with protocol/address/port.
# @param protocol
#   The service as `tcp` or `udp` (default tcp) with `address` and `port`.
# @param address
#   The service address of a TCP/UDP service.
# @param port
#   The service port of a TCP/UDP service.
# @param scheduler
#   The IPVS scheduler (default wlc).
# @param forward
#   How packets reach nodes: ipip (the talk's tunnels, default), dr or nat.
# @param persistence_timeout
#   Client persistence (`ipvsadm -p`), whole seconds, e.g. `300s`. Default: none.
# @param persistence_netmask
#   Persistence granularity (`ipvsadm -M`): a netmask like `255.255.255.0` for an IPv4 service,
#   a prefix length like 64 for an IPv6 one. Needs persistence_timeout. Default: one client.
# @param scheduler_flags
#   Scheduler flags (`ipvsadm -b`): `sh-fallback`, `sh-port` with scheduler sh, `mh-fallback`,
#   `mh-port` with mh. Default: none.
# @param one_packet
#   One-packet scheduling (`ipvsadm -o`): each UDP datagram scheduled on its own. Not for a TCP
#   service. Default: false.
# @param check_interval
#   Time between health checks of a node (default 2s).
# @param check_timeout
#   Budget for one check, at most check_interval (default: check_interval).
# @param ramp_up_time
#   A returning node's weight ramps from 0 to its health over this time (default 120s).
# @param fall
#   Failed checks in a row before a node gets weight 0 (1..100, default 1).
# @param rise
#   Good checks in a row before a failed node serves again (1..100, default 1).
# @param backend_mode
#   active_active (default: every healthy node, weighted) or active_passive (one node).
# @param standby
#   cold (default: the talk's group; big_brother runs only where the VIPs are) or warm
#   (big_brother and its checks run on every director as a clone; a failover moves only the
#   VIPs). Switching warm to cold restarts the cluster on its director.
# @param sorry_server
#   `address`, optional `port` and `weight`: served only while every node is down.
# @param override_dir
#   Where big_brother looks for the cluster's override files `up/<supervisor_id>` and
#   `down/<supervisor_id>` (default /etc/big_brother). An absolute path; the define does not
#   create it.
# @param on_change
#   A command run when the number of down nodes changes: an argument array whose first element
#   is the program's absolute path, at most 64 elements. No shell; the summary is in `BB_*`
#   environment variables. Default: none.
# @param on_change_timeout
#   The on_change command is killed after this long (default 10s, at most 5m). Needs on_change.
# @param panic_threshold
#   A percentage, 0..100 (default 0, off): when fewer than this share of the undrained nodes is
#   healthy, big_brother stops trusting health and keeps every node that still answers TCP at
#   its last good weight.
# @param removal_timeout
#   A node taken out of the spec keeps weight 0 and its connections until they end, at most this
#   long (default 5m, at most 24h; `1ms` deletes at once).
# @param check
#   How nodes are checked: litmus (default), http, tcp, agent or exec; a node's `check` key
#   overrides it (as do its other check keys below).
# @param expect_status
#   http only: healthy statuses, codes or ranges like `[200, '300-302']` (default 200-299).
# @param expect_body
#   http only: a substring the body must contain.
# @param check_command
#   exec only (and required with it): the program's absolute path and its arguments.
# @param tls
#   litmus and http only: check over HTTPS (default false).
# @param tls_server_name
#   With tls: the SNI and verified name (default: the node's address).
# @param tls_ca_file
#   With tls: a PEM file of trusted CAs (default: the system's store).
# @param tls_verify
#   With tls: false accepts any certificate (default true; status says so).
# @param ops
#   Operation timeouts in the CIB: `{ 'ipvs' => {...}, 'vip' => {...} }` with `start_timeout`,
#   `stop_timeout`, `monitor_interval`, `monitor_timeout` (defaults: the talk's 20s/40s/61s/30s
#   for big_brother, 30s/90s/61s/30s for each VIP).
# @param ensure
#   `present`, or `absent`: stop and delete the group (`big_brother crm remove`), then the spec.
# @param config_dir
#   Where spec files live. Any directory other than /etc/big_brother is written into the
#   primitive as its `config` parameter, so the agent finds the spec there.
# @param binary
#   The big_brother binary (agents/install puts a `big_brother` alias in /usr/sbin).
define pacemaker::ipvs_resource (
  Array[Pacemaker::Vip, 1]                     $ip_resources,
  Pacemaker::Name                              $supervisor_id       = $title,
  Optional[Pacemaker::Text]                    $description         = undef,
  Array[Pacemaker::Node]                       $nodes               = [],
  Optional[Integer[1, 4294967295]]             $fwmark              = undef,
  Optional[Enum['tcp', 'udp']]                 $protocol            = undef,
  Optional[Pacemaker::Ipaddress]               $address             = undef,
  Optional[Pacemaker::Port]                    $port                = undef,
  Optional[Pacemaker::Scheduler]               $scheduler           = undef,
  Optional[Enum['ipip', 'dr', 'nat']]          $forward             = undef,
  Optional[Pacemaker::Duration]                $persistence_timeout = undef,
  Optional[Pacemaker::Persistencenetmask]      $persistence_netmask = undef,
  Optional[Array[Pacemaker::Schedulerflag]]    $scheduler_flags     = undef,
  Optional[Boolean]                            $one_packet          = undef,
  Optional[Pacemaker::Duration]                $check_interval      = undef,
  Optional[Pacemaker::Duration]                $check_timeout       = undef,
  Optional[Pacemaker::Duration]                $ramp_up_time        = undef,
  Optional[Integer[1, 100]]                    $fall                = undef,
  Optional[Integer[1, 100]]                    $rise                = undef,
  Optional[Pacemaker::Backendmode]             $backend_mode        = undef,
  Optional[Pacemaker::Standby]                 $standby             = undef,
  Optional[Pacemaker::Sorryserver]             $sorry_server        = undef,
  Optional[Pacemaker::Specpath]                $override_dir        = undef,
  Optional[Pacemaker::Onchange]                $on_change           = undef,
  Optional[Pacemaker::Onchangetimeout]         $on_change_timeout   = undef,
  Optional[Integer[0, 100]]                    $panic_threshold     = undef,
  Optional[Pacemaker::Removaltimeout]          $removal_timeout     = undef,
  Optional[Pacemaker::Check]                   $check               = undef,
  Optional[Pacemaker::Expectstatus]            $expect_status       = undef,
  Optional[Pacemaker::Expectbody]              $expect_body         = undef,
  Optional[Pacemaker::Checkcommand]            $check_command       = undef,
  Optional[Boolean]                            $tls                 = undef,
  Optional[Pacemaker::Servername]              $tls_server_name     = undef,
  Optional[Pacemaker::Specpath]                $tls_ca_file         = undef,
  Optional[Boolean]                            $tls_verify          = undef,
  Pacemaker::Ops                               $ops                 = {},
  Enum['present', 'absent']                    $ensure              = 'present',
  Pacemaker::Abspath                           $config_dir          = '/etc/big_brother',
  Pacemaker::Abspath                           $binary              = '/usr/sbin/big_brother',
) {
  $who = "Pacemaker::Ipvs_resource[${title}]"
  $spec_file = "${config_dir}/${supervisor_id}.toml"

  # The same rules big_brother enforces, checked here too so the catalog fails before anything
  # is applied (big_brother's `validate` still has the last word, in validate_cmd below).
  $addr_service = [$protocol, $address, $port].any |$v| { $v =~ NotUndef }
  if $fwmark =~ NotUndef and $addr_service {
    fail("${who}: give either fwmark or protocol/address/port for the service, not both")
  }
  if $addr_service and ($address =~ Undef or $port =~ Undef) {
    fail("${who}: a TCP/UDP service needs both address and port")
  }
  if $on_change_timeout =~ NotUndef and $on_change =~ Undef {
    fail("${who}: on_change_timeout needs on_change (the command it limits)")
  }
  # The check keys: each node's merged with the cluster's, checked together as big_brother does
  # (its validate also checks the rest: expect_* only on http, tls only on litmus/http, ...).
  $check_keys = ['check', 'expect_status', 'expect_body', 'check_command', 'tls',
    'tls_server_name', 'tls_ca_file', 'tls_verify']
  $cluster_check = {
    'check'           => $check,
    'expect_status'   => $expect_status,
    'expect_body'     => $expect_body,
    'check_command'   => $check_command,
    'tls'             => $tls,
    'tls_server_name' => $tls_server_name,
    'tls_ca_file'     => $tls_ca_file,
    'tls_verify'      => $tls_verify,
  }
  $checks = $nodes.empty ? {
    true    => [['the cluster', $cluster_check]],
    default => $nodes.map |$n| {
      [$n['address'], $check_keys.reduce({}) |$m, $k| { $m + { $k => $n[$k].lest || { $cluster_check[$k] } } }]
    },
  }
  $checks.each |$c| {
    $what = $c[0]
    $keys = $c[1]
    $kind = $keys['check'].lest || { 'litmus' }
    if $kind == 'exec' and $keys['check_command'] =~ Undef {
      fail("${who}: ${what}: check => 'exec' needs check_command (the program to run)")
    }
    if $kind != 'exec' and $keys['check_command'] =~ NotUndef {
      fail("${who}: ${what}: check_command needs check => 'exec' (the check is ${kind})")
    }
    if $kind != 'http' and ($keys['expect_status'] =~ NotUndef or $keys['expect_body'] =~ NotUndef) {
      fail("${who}: ${what}: expect_status and expect_body need check => 'http' (the check is ${kind})")
    }
    if $keys['tls'] == true and !($kind in ['litmus', 'http']) {
      fail("${who}: ${what}: tls is only for litmus and http checks (the check is ${kind})")
    }
    if $keys['tls'] != true and ['tls_server_name', 'tls_ca_file', 'tls_verify'].any |$k| { $keys[$k] =~ NotUndef } {
      fail("${who}: ${what}: tls_server_name, tls_ca_file and tls_verify need tls => true")
    }
  }
  # The service options (issue 17), as big_brother's validate checks them.
  if $persistence_netmask =~ NotUndef {
    if $persistence_timeout =~ Undef {
      fail("${who}: persistence_netmask needs persistence_timeout (the kernel only groups clients by netmask for a persistent service)")
    }
    if $address =~ NotUndef and ($address =~ Pacemaker::Ipv4) != ($persistence_netmask =~ Pacemaker::Ipv4) {
      fail("${who}: persistence_netmask must be a dotted netmask for an IPv4 service, a prefix length for an IPv6 one")
    }
  }
  $flag_scheduler = $scheduler.lest || { 'wlc' }
  ($scheduler_flags.lest || { [] }).each |$f| {
    if $f.split('-')[0] != $flag_scheduler {
      fail("${who}: scheduler flag ${f} is not read by scheduler ${flag_scheduler} (sh-* are for sh, mh-* for mh)")
    }
  }
  if $one_packet == true and $addr_service and ($protocol.lest || { 'tcp' }) == 'tcp' {
    fail("${who}: one_packet needs protocol => 'udp' or a fwmark service (the kernel schedules only UDP datagrams one by one)")
  }
  $nodes.each |$n| {
    $upper = $n['upper_threshold'].lest || { 0 }
    if $n['lower_threshold'] =~ NotUndef and $n['lower_threshold'] > 0 {
      if $upper < $n['lower_threshold'] {
        fail("${who}: ${n['address']}: lower_threshold needs an upper_threshold at least as high")
      }
    }
  }
  $has_service = $fwmark =~ NotUndef or $addr_service
  if !$has_service and (!$nodes.empty or $sorry_server =~ NotUndef) {
    fail("${who}: nodes and sorry_server need a service: set fwmark, or protocol/address/port")
  }
  if $fwmark =~ NotUndef {
    if $nodes.any |$n| { $n['real_port'] =~ NotUndef } {
      fail("${who}: nodes of a fwmark service take no real_port (they get the packet's own port)")
    }
    if $sorry_server =~ NotUndef and $sorry_server['port'] =~ NotUndef {
      fail("${who}: the sorry_server of a fwmark service takes no port")
    }
  }

  if $ensure == 'present' {
    if !$has_service or $nodes.empty {
      # Puppet prefixes the message with Scope(Pacemaker::Ipvs_resource[<title>]).
      warning(@("MSG"/L))
        cluster ${supervisor_id} is staged (no service or no nodes): its CIB group \
        is created, but big_brother will not start it until fwmark (or protocol/address/port) \
        and nodes are set
        | MSG
    }

    $top = {
      'name'                => $supervisor_id,
      'description'         => $description,
      'fwmark'              => $fwmark,
      'protocol'            => $protocol,
      'address'             => $address,
      'port'                => $port,
      'scheduler'           => $scheduler,
      'forward'             => $forward,
      'persistence_timeout' => $persistence_timeout,
      'persistence_netmask' => $persistence_netmask,
      'scheduler_flags'     => $scheduler_flags,
      'one_packet'          => $one_packet,
      'check_interval'      => $check_interval,
      'check_timeout'       => $check_timeout,
      'ramp_up_time'        => $ramp_up_time,
      'fall'                => $fall,
      'rise'                => $rise,
      'backend_mode'        => $backend_mode,
      'standby'             => $standby,
      'override_dir'        => $override_dir,
      'on_change'           => $on_change,
      'on_change_timeout'   => $on_change_timeout,
      'panic_threshold'     => $panic_threshold,
      'removal_timeout'     => $removal_timeout,
    } + $cluster_check
    $sorry = $sorry_server ? {
      undef   => [],
      default => [['[sorry_server]', {
        'address' => $sorry_server['address'],
        'port'    => $sorry_server['port'],
        'weight'  => $sorry_server['weight'],
      }]],
    }
    $vips = $ip_resources.map |$v| {
      ['[[vip]]', {
        'address'      => $v['address'],
        'nic'          => $v['nic'],
        'cidr_netmask' => $v['cidr_netmask'],
      }]
    }
    $node_tables = $nodes.map |$n| {
      ['[[node]]', {
        'address'    => $n['address'],
        'port'       => $n['port'],
        'path'       => $n['path'],
        'real_port'  => $n['real_port'],
        'max_weight' => $n['max_weight'],
        'priority'   => $n['priority'],
        'upper_threshold' => $n['upper_threshold'],
        'lower_threshold' => $n['lower_threshold'],
      } + $check_keys.reduce({}) |$m, $k| { $m + { $k => $n[$k] } }]
    }
    $op_tables = ['ipvs', 'vip'].filter |$which| { $ops[$which] =~ NotUndef }.map |$which| {
      $o = $ops[$which]
      ["[ops.${which}]", {
        'start_timeout'    => $o['start_timeout'],
        'stop_timeout'     => $o['stop_timeout'],
        'monitor_interval' => $o['monitor_interval'],
        'monitor_timeout'  => $o['monitor_timeout'],
      }]
    }
    # Keys left undef are dropped, so big_brother's defaults apply; hashes keep their order.
    $sections = ([['', $top]] + $sorry + $vips + $node_tables + $op_tables).map |$s| {
      [$s[0], $s[1].filter |$k, $v| { $v =~ NotUndef }]
    }

    # Several clusters share the directory; whichever comes first declares it.
    if !defined(File[$config_dir]) {
      file { $config_dir:
        ensure => directory,
        owner  => 'root',
        group  => 'root',
        mode   => '0755',
      }
    }

    file { $spec_file:
      ensure       => file,
      owner        => 'root',
      group        => 'root',
      mode         => '0644',
      content      => epp('pacemaker/spec.toml.epp', {
        'cluster'  => $supervisor_id,
        'sections' => $sections,
      }),
      # A spec big_brother would refuse never replaces a good one.
      validate_cmd => "${binary} validate %",
      require      => File[$config_dir],
    }

    # Argument arrays, no shell. `unless` takes a list of commands, so the check is wrapped in
    # one more array (a flat array would be six separate commands: the binary alone, `crm`, ...).
    exec { "big_brother crm apply ${supervisor_id}":
      command => [$binary, 'crm', 'apply', '--config-dir', $config_dir, $spec_file],
      unless  => [[$binary, 'crm', 'check', '--config-dir', $config_dir, $spec_file]],
      require => File[$spec_file],
    }
  } else {
    # Only when the group is in the CIB, so a second run changes nothing.
    exec { "big_brother crm remove ${supervisor_id}":
      command => [$binary, 'crm', 'remove', $supervisor_id],
      onlyif  => [['cibadmin', '--query', '--xpath', "//group[@id='${supervisor_id}_group']"]],
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    }
    -> file { $spec_file:
      ensure => absent,
    }
  }
}
