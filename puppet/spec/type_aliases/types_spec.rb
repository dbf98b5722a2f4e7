# frozen_string_literal: true

# The module's type aliases accept what big_brother's spec accepts and refuse typos, so a wrong
# value fails the catalog compile instead of the spec file check on the node.

require 'spec_helper'

{
  'Pacemaker::Name' => {
    ok: ['webapp', 'w', 'api.v2', 'Web-App_2', "w#{'a' * 63}"],
    bad: ['', '1webapp', '_webapp', 'web app', 'web/app', 'web:app', "w#{'a' * 64}", "webapp\n", 'wébapp'],
  },
  'Pacemaker::Ipv4' => {
    ok: ['204.109.13.7', '0.0.0.0', '255.255.255.255', '10.0.0.1', '192.0.2.99'],
    bad: ['204.109.13.300', '204.109.13', '204.109.13.7.1', '010.0.0.1', ' 10.0.0.1', '10.0.0.1 ', '1e.0.0.1', "10.0.0.1\n", '١٠.0.0.1'],
  },
  'Pacemaker::Ipv6' => {
    ok: ['2001:db8::7', '::1', '::', '2001:db8:0:0:0:0:0:1', 'fe80::', 'FE80::1', '2001:db8::a:b:c:d:e',
         '::ffff:192.0.2.1', '64:ff9b::192.0.2.1', '0:0:0:0:0:ffff:192.0.2.1', '1::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8'],
    bad: ['2001:db8::zz', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '2001:db8::1/64', '12345::1', ':1', '1:', '[::1]',
          '::ffff:192.0.2.300', 'webapp'],
  },
  'Pacemaker::Ipaddress' => {
    ok: ['204.109.13.7', '2001:db8::7'],
    bad: ['localhost', 'www.example.com', '', '204.109.13.7/32'],
  },
  'Pacemaker::Port' => {
    ok: [1, 80, 65_535],
    bad: [0, -1, 65_536, '80', 80.0],
  },
  'Pacemaker::Duration' => {
    ok: ['2s', '120s', '2000ms', '1500ms', '2m', '2min', '1h', '007s', '999999999h'],
    bad: ['0s', '00ms', '-2s', '2', 2, 's', '', '2 s', ' 2s', '2S', '2sec', '2.5s', '1d', '1000000000s', "2s\n"],
  },
  'Pacemaker::Nic' => {
    ok: ['eth10', 'eth70', 'bond0.100', 'br-lan', 'a', 'a23456789012345', '.a', 'en+p0'],
    bad: ['', 'eth0:1', 'eth/0', 'eth 0', '.', '..', 'a234567890123456', "eth0\n", "eth\t0", 'ethé'],
  },
  'Pacemaker::Schedulerflag' => {
    ok: ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'],
    bad: ['flag-1', 'SH-PORT', 'sh_port', '', 'sh-fallback '],
  },
  'Pacemaker::Persistencenetmask' => {
    ok: ['255.255.255.0', '255.255.0.0', 1, 64, 128],
    bad: ['/24', '255.255.255.0/24', '24', 0, 129, -1, ''],
  },
  'Pacemaker::Threshold' => {
    ok: [0, 1, 1_000_000],
    bad: [-1, 1_000_001, '10'],
  },
  'Pacemaker::Check' => {
    ok: ['litmus', 'http', 'tcp', 'agent', 'exec'],
    bad: ['', 'HTTP', 'https', 'ping', 'misc'],
  },
  'Pacemaker::Expectstatus' => {
    ok: [[200], [200, '300-302'], ['100-599'], [599] * 32],
    bad: [[], [99], [600], ['2xx'], ['200 - 299'], [200.0], [true], [200] * 33, 200],
  },
  'Pacemaker::Expectbody' => {
    ok: ['ok', 'say "ok"', 'x' * 1024, 'Zürich'],
    bad: ['', 'x' * 1025, "a\nb", "a\tb"],
  },
  'Pacemaker::Checkcommand' => {
    ok: [['/bin/true'], ['/usr/lib/bb/probe', '--port', '80', ''], ['/bin/true'] + ['x'] * 63],
    bad: [[], ['probe'], ['/bin/true', "a\u0000b"], ['/bin/true'] + ['x'] * 64, '/bin/true'],
  },
  'Pacemaker::Servername' => {
    ok: ['web.example', 'a', 'web-1.example.com', '10.0.0.1', '2001:db8::1'],
    bad: ['', 'a b', '-web.example', 'web-.example', 'web..example', "#{'a' * 64}.example", 'web_1.example'],
  },
  'Pacemaker::Urlpath' => {
    ok: ['/', '/webapp/status', '/webapp/status?deep=1', '/a%20b', '/"quoted"'],
    bad: ['', 'webapp/status', '/a b', '/a#b', "/a\nb", "/a\tb", "/a\u0085b"],
  },
  'Pacemaker::Text' => {
    ok: ['', 'Braintree Webapp', 'A & B <"c"> \\ back', "it's #1", "Café Zürich ☃ 'x' \\"],
    bad: ["a\nb", "a\tb", "a\u0000b", "a\u007fb", "a\u0085b", "a\rb", 'Café & Bar', '"Café"', '<é', 'é>'],
  },
  'Pacemaker::Abspath' => {
    ok: ['/etc/big_brother', '/usr/sbin/big_brother', '/tmp/x.y+z-1', '/a'],
    bad: ['/', '', 'etc/big_brother', '/etc/big brother', '/etc/bb;true', '/etc/$HOME', '/etc/bb%', '/etc/bb/', "/etc/bb\n", '//etc'],
  },
  'Pacemaker::Specpath' => {
    ok: ['/', '/etc/big_brother', '/var/lib/big brother/', '/srv/lb;x/$HOME%', '/opt/Zürich', '//x'],
    bad: ['', 'etc/big_brother', './x', '~/x', ' /x', "/x\n", "/x\ty", "/x\u0000", "/x\u007f", "/x\u0085"],
  },
  'Pacemaker::Argument' => {
    ok: ['', '--team', 'a b', "multi\nline\tscript", '"quoted" \\ back', '☃'],
    bad: ["a\u0000b", "\u0000", 1, ['a']],
  },
  'Pacemaker::Onchange' => {
    ok: [['/usr/local/bin/notify'], ['/usr/local/bin/notify', '--team', 'lb'], ['/bin/sh', '-c', "echo \"$BB_MESSAGE\"\n", 'arg0', ''],
         ['/bin/x'] + ['a'] * 63],
    bad: [[], '/usr/local/bin/notify', ['notify'], ['bin/notify', '-x'], ['', 'x'], ["/bin/x\n"], ['/bin/x', "a\u0000"],
          ['/bin/x', 1], ['/bin/x'] + ['a'] * 64, { '/bin/x' => 'a' }],
  },
  'Pacemaker::Onchangetimeout' => {
    ok: ['1ms', '99999ms', '100000ms', '299999ms', '300000ms', '1s', '10s', '99s', '100s', '299s', '300s', '0300s', '1m', '5m',
         '5min', '005m'],
    bad: ['0s', '0ms', '300001ms', '301s', '400s', '1000s', '6m', '10m', '6min', '1h', '10', 10, '10 s', '10S', '-1s', '', "10s\n"],
  },
  'Pacemaker::Removaltimeout' => {
    ok: ['1ms', '9999999ms', '79999999ms', '85999999ms', '86399999ms', '86400000ms', '1s', '9999s', '79999s', '85999s',
         '86399s', '86400s', '086400s', '1m', '999m', '1399m', '1439m', '1440m', '1440min', '1h', '19h', '24h', '5m'],
    bad: ['0ms', '86400001ms', '86401s', '86500s', '90000s', '1441m', '1500m', '2000min', '25h', '30h', '0h', '100h', '1d',
          '300', 300, '5 m', '5M', '-1s', '', "5m\n"],
  },
  'Pacemaker::Scheduler' => {
    ok: %w[rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos],
    bad: ['WLC', 'wlcc', 'round-robin', '', 'wlc '],
  },
  'Pacemaker::Backendmode' => {
    ok: %w[active_active active_passive],
    bad: ['active', 'active-passive', ''],
  },
  'Pacemaker::Standby' => {
    ok: %w[cold warm],
    bad: ['hot', 'Warm', ''],
  },
  'Pacemaker::Vip' => {
    ok: [{ 'address' => '204.109.13.7', 'nic' => 'eth10' }, { 'address' => '2001:db8::7', 'cidr_netmask' => 64 },
         { 'address' => '192.0.2.7', 'nic' => 'eth0', 'cidr_netmask' => 32 }],
    bad: [{ 'nic' => 'eth10' }, { 'adress' => '204.109.13.7' }, { 'address' => '204.109.13.7', 'netmask' => 32 },
          { 'address' => '204.109.13.7', 'cidr_netmask' => 0 }, '204.109.13.7'],
  },
  'Pacemaker::Node' => {
    ok: [{ 'address' => '10.0.0.1', 'port' => 80 },
         { 'address' => '10.0.0.1', 'port' => 80, 'path' => '/x', 'real_port' => 8080, 'max_weight' => 0, 'priority' => -1 }],
    bad: [{ 'address' => '10.0.0.1' }, { 'port' => 80 }, { 'address' => '10.0.0.1', 'port' => 80, 'weight' => 5 },
          { 'address' => '10.0.0.1', 'port' => 80, 'health_path' => '/x' }],
  },
  'Pacemaker::Sorryserver' => {
    ok: [{ 'address' => '10.0.0.9' }, { 'address' => '10.0.0.9', 'port' => 80, 'weight' => 1 }],
    bad: [{}, { 'address' => '10.0.0.9', 'weight' => 0 }, { 'address' => '10.0.0.9', 'max_weight' => 1 }],
  },
  'Pacemaker::Ops' => {
    ok: [{}, { 'ipvs' => {} }, { 'ipvs' => { 'start_timeout' => '20s' }, 'vip' => { 'monitor_interval' => '61s' } }],
    bad: [{ 'ipvz' => {} }, { 'ipvs' => { 'start_timout' => '20s' } }, { 'vip' => { 'monitor_interval' => 61 } }],
  },
}.each do |type, values|
  describe type, type: :type_alias do
    values[:ok].each do |v|
      it { is_expected.to allow_value(v) }
    end
    values[:bad].each do |v|
      it { is_expected.not_to allow_value(v) }
    end
  end
end
