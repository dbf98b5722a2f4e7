# frozen_string_literal: true

# Catalog tests for pacemaker::ipvs_resource: the talk's exact parameters, every parameter's
# effect on the spec file and the resources, and every rejected value (a typo must fail the
# compile with Puppet's own message naming the parameter).

require 'spec_helper'

HEADER = <<~TOML
  # big_brother spec for cluster webapp, written by Puppet (pacemaker::ipvs_resource).
  # Local changes are overwritten on the next run. Check it with: big_brother validate <this file>
TOML

TALK = {
  'description' => 'Braintree Webapp',
  'supervisor_id' => 'webapp',
  'ip_resources' => [{ 'address' => '204.109.13.7', 'nic' => 'eth10' }],
}.freeze

BB = '/usr/sbin/big_brother'

describe 'pacemaker::ipvs_resource' do
  let(:title) { 'webapp' }

  context "with the talk's exact parameters" do
    let(:params) { TALK }

    it { is_expected.to compile.with_all_deps }

    it 'writes a root-owned 0644 spec into /etc/big_brother, checked by big_brother validate' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with(
        'ensure' => 'file',
        'owner' => 'root',
        'group' => 'root',
        'mode' => '0644',
        'validate_cmd' => "#{BB} validate %",
        'require' => 'File[/etc/big_brother]',
        'content' => HEADER + <<~TOML,
          name = "webapp"
          description = "Braintree Webapp"

          [[vip]]
          address = "204.109.13.7"
          nic = "eth10"
        TOML
      )
    end

    it 'manages the config directory' do
      is_expected.to contain_file('/etc/big_brother').with(
        'ensure' => 'directory', 'owner' => 'root', 'group' => 'root', 'mode' => '0755',
      )
    end

    it 'applies the CIB with argument arrays, guarded by crm check, never refreshonly' do
      is_expected.to contain_exec('big_brother crm apply webapp').with(
        'command' => [BB, 'crm', 'apply', '--config-dir', '/etc/big_brother', '/etc/big_brother/webapp.toml'],
        # One command in a list of commands: a flat array would be six separate commands.
        'unless' => [[BB, 'crm', 'check', '--config-dir', '/etc/big_brother', '/etc/big_brother/webapp.toml']],
        'require' => 'File[/etc/big_brother/webapp.toml]',
        'refreshonly' => nil,
        'onlyif' => nil,
        'path' => nil,
      )
    end

    it 'declares nothing else' do
      # The count includes the define itself.
      is_expected.to have_resource_count(4)
      is_expected.to have_exec_resource_count(1)
      is_expected.to have_file_resource_count(2)
    end

    it 'warns at compile time that the cluster is staged' do
      expect(compile_warnings).to include(match(/\Acluster webapp is staged.*fwmark.*nodes/))
    end
  end

  context 'with every parameter (fwmark service)' do
    let(:params) do
      {
        'description' => 'Braintree Webapp',
        'supervisor_id' => 'webapp',
        'ip_resources' => [
          { 'address' => '204.109.13.7', 'nic' => 'eth10', 'cidr_netmask' => 24 },
          { 'address' => '2001:db8::7', 'cidr_netmask' => 64 },
        ],
        'nodes' => [
          { 'address' => '10.0.0.1', 'port' => 80 },
          { 'priority' => -2, 'max_weight' => 50, 'path' => '/webapp/status?deep=1', 'port' => 8080, 'address' => '2001:db8::1' },
        ],
        'fwmark' => 7,
        'scheduler' => 'wrr',
        'forward' => 'dr',
        'persistence_timeout' => '300s',
        'check_interval' => '2000ms',
        'check_timeout' => '1500ms',
        'ramp_up_time' => '2m',
        'fall' => 3,
        'rise' => 2,
        'backend_mode' => 'active_passive',
        'standby' => 'warm',
        'sorry_server' => { 'weight' => 5, 'address' => '10.0.0.9' },
        'on_change_timeout' => '30s',
        'on_change' => ['/usr/local/bin/lb-notify', '--channel', '#lb'],
        'override_dir' => '/var/lib/big_brother',
        'ops' => {
          'vip' => { 'monitor_timeout' => '20s', 'start_timeout' => '31s' },
          'ipvs' => { 'start_timeout' => '21s', 'stop_timeout' => '41s', 'monitor_interval' => '62s', 'monitor_timeout' => '29s' },
        },
      }
    end

    it { is_expected.to compile.with_all_deps }

    it 'renders every key in a fixed order, tables after top-level keys' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~TOML)
        name = "webapp"
        description = "Braintree Webapp"
        fwmark = 7
        scheduler = "wrr"
        forward = "dr"
        persistence_timeout = "300s"
        check_interval = "2000ms"
        check_timeout = "1500ms"
        ramp_up_time = "2m"
        fall = 3
        rise = 2
        backend_mode = "active_passive"
        standby = "warm"
        override_dir = "/var/lib/big_brother"
        on_change = ["/usr/local/bin/lb-notify", "--channel", "#lb"]
        on_change_timeout = "30s"

        [sorry_server]
        address = "10.0.0.9"
        weight = 5

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"
        cidr_netmask = 24

        [[vip]]
        address = "2001:db8::7"
        cidr_netmask = 64

        [[node]]
        address = "10.0.0.1"
        port = 80

        [[node]]
        address = "2001:db8::1"
        port = 8080
        path = "/webapp/status?deep=1"
        max_weight = 50
        priority = -2

        [ops.ipvs]
        start_timeout = "21s"
        stop_timeout = "41s"
        monitor_interval = "62s"
        monitor_timeout = "29s"

        [ops.vip]
        start_timeout = "31s"
        monitor_timeout = "20s"
      TOML
    end

    it 'does not warn when the cluster is complete' do
      expect(compile_warnings).not_to include(match(/staged/))
    end
  end

  context 'with a TCP service' do
    let(:params) do
      TALK.merge(
        'protocol' => 'tcp', 'address' => '192.0.2.7', 'port' => 443,
        'nodes' => [{ 'address' => '198.51.100.1', 'port' => 9292, 'real_port' => 8443 }],
        'sorry_server' => { 'address' => '198.51.100.9', 'port' => 8080 }
      )
    end

    it do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~TOML)
        name = "webapp"
        description = "Braintree Webapp"
        protocol = "tcp"
        address = "192.0.2.7"
        port = 443

        [sorry_server]
        address = "198.51.100.9"
        port = 8080

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"

        [[node]]
        address = "198.51.100.1"
        port = 9292
        real_port = 8443
      TOML
    end
  end

  context 'with a UDP service and no protocol-less keys' do
    let(:params) { TALK.merge('protocol' => 'udp', 'address' => '2001:db8::53', 'port' => 53) }

    it { is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(/^protocol = "udp"\naddress = "2001:db8::53"\nport = 53\n/) }
  end

  context 'with only the required parameter' do
    let(:title) { 'api.v2' }
    let(:params) { { 'ip_resources' => [{ 'address' => '192.0.2.8' }] } }

    it 'names the cluster after the title' do
      is_expected.to contain_file('/etc/big_brother/api.v2.toml').with_content(
        HEADER.sub('cluster webapp', 'cluster api.v2') + <<~TOML,
          name = "api.v2"

          [[vip]]
          address = "192.0.2.8"
        TOML
      )
      is_expected.to contain_exec('big_brother crm apply api.v2')
    end
  end

  context 'with config_dir and binary' do
    let(:params) { TALK.merge('config_dir' => '/srv/lb/specs', 'binary' => '/opt/bb/bin/big_brother') }

    it do
      is_expected.to contain_file('/srv/lb/specs').with_ensure('directory')
      is_expected.to contain_file('/srv/lb/specs/webapp.toml').with(
        'validate_cmd' => '/opt/bb/bin/big_brother validate %',
        'require' => 'File[/srv/lb/specs]',
      )
      is_expected.to contain_exec('big_brother crm apply webapp').with(
        'command' => ['/opt/bb/bin/big_brother', 'crm', 'apply', '--config-dir', '/srv/lb/specs', '/srv/lb/specs/webapp.toml'],
        'unless' => [['/opt/bb/bin/big_brother', 'crm', 'check', '--config-dir', '/srv/lb/specs', '/srv/lb/specs/webapp.toml']],
      )
    end
  end

  context 'with a description that needs escaping' do
    let(:params) { TALK.merge('description' => %q(Braintree "Webapp" & <co> C:\new 'x' # y)) }

    it 'escapes backslash and double quote' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(
        /^description = "Braintree \\"Webapp\\" & <co> C:\\\\new 'x' # y"$/,
      )
    end
  end

  context 'with on_change alone, one element' do
    let(:params) { TALK.merge('fwmark' => 7, 'on_change' => ['/usr/local/bin/notify']) }

    it 'leaves on_change_timeout to big_brother' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~TOML)
        name = "webapp"
        description = "Braintree Webapp"
        fwmark = 7
        on_change = ["/usr/local/bin/notify"]

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"
      TOML
    end
  end

  context 'with panic_threshold and removal_timeout (issue 15)' do
    let(:params) { TALK.merge('fwmark' => 7, 'panic_threshold' => 50, 'removal_timeout' => '30m') }

    it 'writes both spec keys' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~TOML)
        name = "webapp"
        description = "Braintree Webapp"
        fwmark = 7
        panic_threshold = 50
        removal_timeout = "30m"

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"
      TOML
    end
  end

  context 'with panic_threshold 0 and removal_timeout 1ms (off, and delete at once)' do
    let(:params) { TALK.merge('fwmark' => 7, 'panic_threshold' => 0, 'removal_timeout' => '1ms') }

    it 'writes them as given' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml')
        .with_content(/^panic_threshold = 0\nremoval_timeout = "1ms"\n/)
    end
  end

  context 'with on_change arguments that need escaping and an override_dir with a space' do
    let(:params) do
      TALK.merge(
        'fwmark' => 7,
        'override_dir' => '/srv/big brother/ovr',
        'on_change' => ['/bin/sh', '-c', %(printf '%s\\n' "$BB_MESSAGE" \\\n  | logger -t "lb #1"\tx\r), 'sh', '', "C:\\new\u0001\u007f"],
        'on_change_timeout' => '5m',
      )
    end

    it 'escapes backslash, double quote, newline, tab, CR and other control characters' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~'TOML')
        name = "webapp"
        description = "Braintree Webapp"
        fwmark = 7
        override_dir = "/srv/big brother/ovr"
        on_change = ["/bin/sh", "-c", "printf '%s\\n' \"$BB_MESSAGE\" \\\n  | logger -t \"lb #1\"\tx\r", "sh", "", "C:\\new\u0001\u007F"]
        on_change_timeout = "5m"

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"
      TOML
    end
  end

  context 'with a non-ASCII description' do
    let(:params) { TALK.merge('description' => %q(Zürich — ☃ 'x' \ y)) }

    it 'keeps UTF-8 as is' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(/^description = "Zürich — ☃ 'x' \\\\ y"$/)
    end
  end

  context 'with a supervisor_id different from the title' do
    let(:title) { 'the talk webapp' }
    let(:params) { TALK }

    it do
      is_expected.to contain_file('/etc/big_brother/webapp.toml')
      is_expected.to contain_exec('big_brother crm apply webapp')
    end
  end

  context 'with two clusters in one catalog' do
    let(:pre_condition) do
      "pacemaker::ipvs_resource { 'api': ip_resources => [{ 'address' => '192.0.2.9' }], fwmark => 9 }"
    end
    let(:params) { TALK }

    it 'declares the shared directory once' do
      is_expected.to compile.with_all_deps
      is_expected.to contain_file('/etc/big_brother/api.toml')
      is_expected.to contain_file('/etc/big_brother/webapp.toml')
      is_expected.to have_file_resource_count(3)
    end
  end

  context 'when the catalog already declares the config directory' do
    let(:pre_condition) { "file { '/etc/big_brother': ensure => directory, mode => '0750' }" }
    let(:params) { TALK }

    it { is_expected.to contain_file('/etc/big_brother').with_mode('0750') }
  end

  context 'with the same supervisor_id twice' do
    let(:pre_condition) do
      "pacemaker::ipvs_resource { 'other': supervisor_id => 'webapp', ip_resources => [{ 'address' => '192.0.2.9' }] }"
    end
    let(:params) { TALK }

    it { is_expected.to compile.and_raise_error(/Duplicate declaration: File\[\/etc\/big_brother\/webapp.toml\]/) }
  end

  context 'with ensure => absent' do
    let(:params) { TALK.merge('ensure' => 'absent') }

    it { is_expected.to compile.with_all_deps }

    it 'removes the group only when it is in the CIB, then the spec' do
      is_expected.to contain_exec('big_brother crm remove webapp').with(
        'command' => [BB, 'crm', 'remove', 'webapp'],
        'onlyif' => [['cibadmin', '--query', '--xpath', "//group[@id='webapp_group']"]],
        'path' => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
        'refreshonly' => nil,
        'unless' => nil,
      ).that_comes_before('File[/etc/big_brother/webapp.toml]')
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_ensure('absent')
    end

    it 'does not apply, create the directory or warn' do
      is_expected.not_to contain_exec('big_brother crm apply webapp')
      is_expected.not_to contain_file('/etc/big_brother')
      is_expected.to have_resource_count(3)
      expect(compile_warnings).not_to include(match(/staged/))
    end
  end

  # Each rejected value fails the compile, and the message names the parameter at fault.
  # [description, parameter overrides, expected error pattern]
  rejected = [
    ['no ip_resources', { 'ip_resources' => nil }, /expects a value for parameter 'ip_resources'/],
    ['empty ip_resources', { 'ip_resources' => [] }, /parameter 'ip_resources' expects size to be at least 1/],
    ['a typo in a VIP key', { 'ip_resources' => [{ 'adress' => '204.109.13.7', 'nic' => 'eth10' }] },
     /parameter 'ip_resources' index 0 (expects a value for key 'address'|unrecognized key 'adress')/],
    ['an unknown VIP key', { 'ip_resources' => [{ 'address' => '204.109.13.7', 'netmask' => 24 }] },
     /parameter 'ip_resources' index 0 unrecognized key 'netmask'/],
    ['a bad VIP address', { 'ip_resources' => [{ 'address' => '204.109.13.300' }] }, /parameter 'ip_resources' index 0 entry 'address'/],
    ['a VIP hostname', { 'ip_resources' => [{ 'address' => 'www.example.com' }] }, /parameter 'ip_resources' index 0 entry 'address'/],
    ['a VIP with a zone', { 'ip_resources' => [{ 'address' => 'fe80::1%eth0' }] }, /parameter 'ip_resources' index 0 entry 'address'/],
    ['a nic alias', { 'ip_resources' => [{ 'address' => '192.0.2.7', 'nic' => 'eth0:1' }] }, /index 0 entry 'nic'/],
    ['a nic too long', { 'ip_resources' => [{ 'address' => '192.0.2.7', 'nic' => 'a234567890123456' }] }, /index 0 entry 'nic'/],
    ['a nic ..', { 'ip_resources' => [{ 'address' => '192.0.2.7', 'nic' => '..' }] }, /index 0 entry 'nic'/],
    ['cidr_netmask 0', { 'ip_resources' => [{ 'address' => '192.0.2.7', 'cidr_netmask' => 0 }] }, /index 0 entry 'cidr_netmask'/],
    ['cidr_netmask 129', { 'ip_resources' => [{ 'address' => '192.0.2.7', 'cidr_netmask' => 129 }] }, /index 0 entry 'cidr_netmask'/],
    ['cidr_netmask as a string', { 'ip_resources' => [{ 'address' => '192.0.2.7', 'cidr_netmask' => '32' }] }, /index 0 entry 'cidr_netmask'/],
    ['a supervisor_id with a space', { 'supervisor_id' => 'web app' }, /parameter 'supervisor_id' expects a match for Pacemaker::Name/],
    ['a supervisor_id starting with a digit', { 'supervisor_id' => '1webapp' }, /parameter 'supervisor_id'/],
    ['a supervisor_id of 65 characters', { 'supervisor_id' => "w#{'a' * 64}" }, /parameter 'supervisor_id'/],
    ['a supervisor_id with a slash', { 'supervisor_id' => '../etc/passwd' }, /parameter 'supervisor_id'/],
    ['a description with a newline', { 'description' => "Braintree\nWebapp" }, /parameter 'description'/],
    ['a description with a tab', { 'description' => "Braintree\tWebapp" }, /parameter 'description'/],
    ['a non-ASCII description with &', { 'description' => 'Café & Bar' }, /parameter 'description' expects a match for Pacemaker::Text/],
    ['a typo in a node key', { 'fwmark' => 7, 'nodes' => [{ 'adress' => '10.0.0.1', 'port' => 80 }] },
     /parameter 'nodes' index 0 (expects a value for key 'address'|unrecognized key 'adress')/],
    ['a node without port', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1' }] }, /parameter 'nodes' index 0 expects a value for key 'port'/],
    ['a node port 0', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 0 }] }, /parameter 'nodes' index 0 entry 'port'/],
    ['a node port 65536', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 65_536 }] }, /parameter 'nodes' index 0 entry 'port'/],
    ['a node path without /', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'path' => 'status' }] }, /index 0 entry 'path'/],
    ['a node path with a space', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'path' => '/a b' }] }, /index 0 entry 'path'/],
    ['a node path with #', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'path' => '/a#b' }] }, /index 0 entry 'path'/],
    ['a node max_weight -1', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'max_weight' => -1 }] }, /entry 'max_weight'/],
    ['a node max_weight 65536', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'max_weight' => 65_536 }] },
     /entry 'max_weight'/],
    ['a node priority string', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'priority' => 'high' }] }, /entry 'priority'/],
    ['a node real_port 0', { 'port' => 80, 'address' => '192.0.2.7', 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'real_port' => 0 }] },
     /entry 'real_port'/],
    ['nodes not an array', { 'fwmark' => 7, 'nodes' => { 'address' => '10.0.0.1', 'port' => 80 } }, /parameter 'nodes' expects an Array value/],
    ['fwmark 0', { 'fwmark' => 0 }, /parameter 'fwmark'/],
    ['fwmark 2**32', { 'fwmark' => 4_294_967_296 }, /parameter 'fwmark'/],
    ['fwmark as a string', { 'fwmark' => '7' }, /parameter 'fwmark' expects a value of type Undef or Integer/],
    ['protocol sctp', { 'protocol' => 'sctp', 'address' => '192.0.2.7', 'port' => 443 }, /parameter 'protocol'/],
    ['a service address hostname', { 'address' => 'lb.example.com', 'port' => 443 }, /parameter 'address'/],
    ['service port 0', { 'address' => '192.0.2.7', 'port' => 0 }, /parameter 'port'/],
    ['a scheduler typo', { 'scheduler' => 'wcl' }, /parameter 'scheduler' expects a match for Pacemaker::Scheduler = Enum/],
    ['a scheduler in capitals', { 'scheduler' => 'WLC' }, /parameter 'scheduler'/],
    ['forward tun', { 'forward' => 'tun' }, /parameter 'forward'/],
    ['backend_mode active', { 'backend_mode' => 'active' }, /parameter 'backend_mode'/],
    ['standby hot', { 'standby' => 'hot' }, /parameter 'standby' expects a match for Pacemaker::Standby = Enum\['cold', 'warm'\]/],
    ['standby in capitals', { 'standby' => 'Warm' }, /parameter 'standby'/],
    ['a unitless duration', { 'check_interval' => '2' }, /parameter 'check_interval' expects a match for Pacemaker::Duration = Pattern/],
    ['an integer duration', { 'check_interval' => 2 }, /parameter 'check_interval'/],
    ['a zero duration', { 'ramp_up_time' => '0s' }, /parameter 'ramp_up_time'/],
    ['a negative duration', { 'ramp_up_time' => '-5s' }, /parameter 'ramp_up_time'/],
    ['a spaced duration', { 'check_timeout' => '2 s' }, /parameter 'check_timeout'/],
    ['a duration unit typo', { 'check_timeout' => '2sec' }, /parameter 'check_timeout'/],
    ['a duration in capitals', { 'persistence_timeout' => '300S' }, /parameter 'persistence_timeout'/],
    ['fall 0', { 'fall' => 0 }, /parameter 'fall'/],
    ['a panic_threshold over 100', { 'panic_threshold' => 101 }, /parameter 'panic_threshold' expects/],
    ['a negative panic_threshold', { 'panic_threshold' => -1 }, /parameter 'panic_threshold'/],
    ['a panic_threshold as a string', { 'panic_threshold' => '50' }, /parameter 'panic_threshold'/],
    ['a panic_threshold with a percent sign', { 'panic_threshold' => '50%' }, /parameter 'panic_threshold'/],
    ['a removal_timeout over 24h', { 'removal_timeout' => '25h' }, /parameter 'removal_timeout' expects a match for Pacemaker::Removaltimeout/],
    ['a removal_timeout of 86401s', { 'removal_timeout' => '86401s' }, /parameter 'removal_timeout'/],
    ['a zero removal_timeout', { 'removal_timeout' => '0s' }, /parameter 'removal_timeout'/],
    ['a unitless removal_timeout', { 'removal_timeout' => '300' }, /parameter 'removal_timeout'/],
    ['fall 101', { 'fall' => 101 }, /parameter 'fall'/],
    ['rise 0', { 'rise' => 0 }, /parameter 'rise'/],
    ['rise 101', { 'rise' => 101 }, /parameter 'rise'/],
    ['a typo in a sorry_server key', { 'fwmark' => 7, 'sorry_server' => { 'adress' => '10.0.0.9' } }, /parameter 'sorry_server'/],
    ['a sorry_server weight 0', { 'fwmark' => 7, 'sorry_server' => { 'address' => '10.0.0.9', 'weight' => 0 } }, /parameter 'sorry_server'/],
    ['an ops typo', { 'ops' => { 'ipvz' => { 'start_timeout' => '20s' } } }, /parameter 'ops' unrecognized key 'ipvz'/],
    ['an opset typo', { 'ops' => { 'ipvs' => { 'start_timout' => '20s' } } }, /parameter 'ops' entry 'ipvs' unrecognized key 'start_timout'/],
    ['an opset bad duration', { 'ops' => { 'vip' => { 'monitor_interval' => '61' } } }, /parameter 'ops' entry 'vip' entry 'monitor_interval'/],
    ['a relative override_dir', { 'override_dir' => 'var/lib/bb' }, /parameter 'override_dir' expects a match for Pacemaker::Specpath/],
    ['an override_dir with a newline', { 'override_dir' => "/var/lib/bb\n" }, /parameter 'override_dir'/],
    ['an override_dir as an array', { 'override_dir' => ['/var/lib/bb'] }, /parameter 'override_dir' expects a match for Pacemaker::Specpath = Pattern.*, got Tuple/],
    ['on_change as a command string', { 'on_change' => '/usr/local/bin/notify --team lb' },
     /parameter 'on_change' expects a Pacemaker::Onchange = Tuple.* value, got String/],
    ['an empty on_change', { 'on_change' => [] }, /parameter 'on_change' expects size to be between 1 and 64, got 0/],
    ['an on_change without a path', { 'on_change' => ['notify', '--team', 'lb'] },
     /parameter 'on_change' index 0 expects a match for Pacemaker::Specpath/],
    ['an on_change through env', { 'on_change' => ['env', '/usr/local/bin/notify'] }, /parameter 'on_change' index 0/],
    ['an on_change argument with NUL', { 'on_change' => ['/bin/echo', "a\u0000b"] },
     /parameter 'on_change' index 1 expects a match for Pacemaker::Argument/],
    ['an on_change integer argument', { 'on_change' => ['/bin/sleep', 5] }, /parameter 'on_change' index 1 expects a/],
    ['an on_change of 65 elements', { 'on_change' => ['/bin/echo'] + ['x'] * 64 }, /parameter 'on_change' expects size to be between 1 and 64, got 65/],
    ['an on_change_timeout over 5m', { 'on_change' => ['/bin/true'], 'on_change_timeout' => '6m' },
     /parameter 'on_change_timeout' expects a match for Pacemaker::Onchangetimeout/],
    ['an on_change_timeout of 301s', { 'on_change' => ['/bin/true'], 'on_change_timeout' => '301s' }, /parameter 'on_change_timeout'/],
    ['an on_change_timeout in hours', { 'on_change' => ['/bin/true'], 'on_change_timeout' => '1h' }, /parameter 'on_change_timeout'/],
    ['a unitless on_change_timeout', { 'on_change' => ['/bin/true'], 'on_change_timeout' => '10' }, /parameter 'on_change_timeout'/],
    ['an integer on_change_timeout', { 'on_change' => ['/bin/true'], 'on_change_timeout' => 10 }, /parameter 'on_change_timeout'/],
    ['a zero on_change_timeout', { 'on_change' => ['/bin/true'], 'on_change_timeout' => '0s' }, /parameter 'on_change_timeout'/],
    ['the typo on_changes', { 'on_changes' => ['/bin/true'] }, /has no parameter named 'on_changes'/],
    ['ensure running', { 'ensure' => 'running' }, /parameter 'ensure' expects a match for Enum\['absent', 'present'\]/],
    ['a relative config_dir', { 'config_dir' => 'etc/big_brother' }, /parameter 'config_dir' expects a match for Pacemaker::Abspath/],
    ['a config_dir with a space', { 'config_dir' => '/etc/big brother' }, /parameter 'config_dir'/],
    ['a config_dir with a shell character', { 'config_dir' => '/etc/bb;reboot' }, /parameter 'config_dir'/],
    ['a config_dir with %', { 'config_dir' => '/etc/bb%' }, /parameter 'config_dir'/],
    ['a relative binary', { 'binary' => 'big_brother' }, /parameter 'binary' expects a match for Pacemaker::Abspath/],
    ['an unknown parameter', { 'schedular' => 'wlc' }, /has no parameter named 'schedular'/],
    ['the talk config key checkInterval', { 'checkInterval' => 2000 }, /has no parameter named 'checkInterval'/],
    # Rules across parameters (the define's own messages).
    ['fwmark and a TCP service', { 'fwmark' => 7, 'address' => '192.0.2.7', 'port' => 443 },
     /Pacemaker::Ipvs_resource\[webapp\]: give either fwmark or protocol\/address\/port for the service, not both/],
    ['fwmark and a protocol', { 'fwmark' => 7, 'protocol' => 'tcp' }, /either fwmark or protocol\/address\/port/],
    ['a service address without port', { 'address' => '192.0.2.7' }, /a TCP\/UDP service needs both address and port/],
    ['a service port without address', { 'protocol' => 'udp', 'port' => 53 }, /a TCP\/UDP service needs both address and port/],
    ['nodes without a service', { 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80 }] }, /nodes and sorry_server need a service/],
    ['a sorry_server without a service', { 'sorry_server' => { 'address' => '10.0.0.9' } }, /nodes and sorry_server need a service/],
    ['real_port on a fwmark node', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'real_port' => 80 }] },
     /nodes of a fwmark service take no real_port/],
    ['on_change_timeout without on_change', { 'on_change_timeout' => '10s' },
     /Pacemaker::Ipvs_resource\[webapp\]: on_change_timeout needs on_change \(the command it limits\)/],
    ['a port on a fwmark sorry_server', { 'fwmark' => 7, 'sorry_server' => { 'address' => '10.0.0.9', 'port' => 80 } },
     /the sorry_server of a fwmark service takes no port/],
    ['exec without check_command', { 'fwmark' => 7, 'check' => 'exec', 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80 }] },
     /10.0.0.1: check => 'exec' needs check_command/],
    ['check_command without exec', { 'check_command' => ['/bin/true'] }, /the cluster: check_command needs check => 'exec'/],
    ['a relative check_command', { 'check' => 'exec', 'check_command' => ['probe'] },
     /parameter 'check_command' index 0 expects a match for Pacemaker::Specpath/],
    ['tls on tcp', { 'check' => 'tcp', 'tls' => true }, /tls is only for litmus and http checks \(the check is tcp\)/],
    ['tls on an agent node', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'check' => 'agent', 'tls' => true }] },
     /10.0.0.1: tls is only for litmus and http checks/],
    ['tls_verify without tls', { 'tls_verify' => false }, /tls_server_name, tls_ca_file and tls_verify need tls => true/],
    ['expect_status on tcp', { 'check' => 'tcp', 'expect_status' => [200] }, /expect_status and expect_body need check => 'http'/],
    ['a status code out of range', { 'check' => 'http', 'expect_status' => [600] },
     /parameter 'expect_status' .*expects a value of type Integer\[100, 599\] or Pattern/],
    ['an unknown check type', { 'check' => 'ping' }, /parameter 'check' expects a match for Pacemaker::Check/],
    ['an expect_body over 1 KiB', { 'check' => 'http', 'expect_body' => 'x' * 1025 }, /parameter 'expect_body' expects a match for Pacemaker::Expectbody/],
    # The service options and thresholds (issue 17).
    ['a CIDR persistence_netmask', { 'fwmark' => 7, 'persistence_timeout' => '5m', 'persistence_netmask' => '/24' },
     /parameter 'persistence_netmask' expects a Pacemaker::Persistencenetmask = Variant/],
    ['a prefix length of 129', { 'fwmark' => 7, 'persistence_timeout' => '5m', 'persistence_netmask' => 129 }, /parameter 'persistence_netmask'/],
    ['persistence_netmask without persistence_timeout', { 'fwmark' => 7, 'persistence_netmask' => '255.255.255.0' },
     /persistence_netmask needs persistence_timeout/],
    ['a prefix length on an IPv4 service', { 'address' => '192.0.2.7', 'port' => 80, 'persistence_timeout' => '5m', 'persistence_netmask' => 24 },
     /persistence_netmask must be a dotted netmask for an IPv4 service, a prefix length for an IPv6 one/],
    ['an unknown scheduler flag', { 'scheduler' => 'sh', 'scheduler_flags' => ['flag-1'] }, /parameter 'scheduler_flags' index 0 expects a match for Pacemaker::Schedulerflag/],
    ['a flag of another scheduler', { 'scheduler' => 'sh', 'scheduler_flags' => ['mh-port'] },
     /scheduler flag mh-port is not read by scheduler sh/],
    ['a flag with the default scheduler', { 'scheduler_flags' => ['sh-port'] }, /scheduler flag sh-port is not read by scheduler wlc/],
    ['one_packet on a TCP service', { 'address' => '192.0.2.7', 'port' => 80, 'one_packet' => true }, /one_packet needs protocol => 'udp' or a fwmark service/],
    ['a negative upper_threshold', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'upper_threshold' => -1 }] },
     /parameter 'nodes' index 0 entry 'upper_threshold'/],
    ['lower_threshold above upper', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'upper_threshold' => 5, 'lower_threshold' => 6 }] },
     /10.0.0.1: lower_threshold needs an upper_threshold at least as high/],
    ['lower_threshold alone', { 'fwmark' => 7, 'nodes' => [{ 'address' => '10.0.0.1', 'port' => 80, 'lower_threshold' => 6 }] },
     /lower_threshold needs an upper_threshold/],
  ]

  context 'with the service options and thresholds (issue 17)' do
    let(:params) do
      TALK.merge(
        'protocol' => 'udp', 'address' => '192.0.2.7', 'port' => 53, 'scheduler' => 'sh',
        'persistence_timeout' => '300s', 'persistence_netmask' => '255.255.255.0',
        'scheduler_flags' => ['sh-fallback', 'sh-port'], 'one_packet' => true,
        'nodes' => [
          { 'address' => '10.0.0.1', 'port' => 80, 'upper_threshold' => 100, 'lower_threshold' => 50 },
          { 'address' => '10.0.0.2', 'port' => 80, 'upper_threshold' => 10 },
        ],
      )
    end

    it { is_expected.to compile.with_all_deps }

    it 'writes them where big_brother reads them' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~TOML)
        name = "webapp"
        description = "Braintree Webapp"
        protocol = "udp"
        address = "192.0.2.7"
        port = 53
        scheduler = "sh"
        persistence_timeout = "300s"
        persistence_netmask = "255.255.255.0"
        scheduler_flags = ["sh-fallback", "sh-port"]
        one_packet = true

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"

        [[node]]
        address = "10.0.0.1"
        port = 80
        upper_threshold = 100
        lower_threshold = 50

        [[node]]
        address = "10.0.0.2"
        port = 80
        upper_threshold = 10
      TOML
    end
  end

  context 'with an IPv6 persistence prefix' do
    let(:params) do
      TALK.merge('address' => '2001:db8::7', 'port' => 443, 'persistence_timeout' => '1m', 'persistence_netmask' => 64,
                 'nodes' => [{ 'address' => '2001:db8::1', 'port' => 80 }])
    end

    it { is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(/^persistence_netmask = 64$/) }
  end

  rejected.each do |what, overrides, message|
    context "with #{what}" do
      let(:params) { TALK.merge(overrides).compact }

      it { is_expected.to compile.and_raise_error(message) }
    end
  end

  context 'with check keys at cluster level and per node (issue 16)' do
    let(:params) do
      TALK.merge(
        'fwmark' => 7,
        'check' => 'tcp',
        'nodes' => [
          { 'address' => '10.0.0.1', 'port' => 443, 'check' => 'http', 'expect_status' => [200, '300-302'],
            'expect_body' => 'say "ok"', 'tls' => true, 'tls_server_name' => 'web1.example',
            'tls_ca_file' => '/etc/ssl/lb-ca.pem', 'tls_verify' => false },
          { 'address' => '10.0.0.2', 'port' => 80 },
          { 'address' => '10.0.0.3', 'port' => 5555, 'check' => 'agent' },
          { 'address' => '10.0.0.4', 'port' => 80, 'check' => 'exec', 'check_command' => ['/usr/lib/bb/probe', '--port', '80'] },
        ],
      )
    end

    it { is_expected.to compile.with_all_deps }

    it 'writes the cluster keys at the top and each node its own' do
      is_expected.to contain_file('/etc/big_brother/webapp.toml').with_content(HEADER + <<~TOML)
        name = "webapp"
        description = "Braintree Webapp"
        fwmark = 7
        check = "tcp"

        [[vip]]
        address = "204.109.13.7"
        nic = "eth10"

        [[node]]
        address = "10.0.0.1"
        port = 443
        check = "http"
        expect_status = [200, "300-302"]
        expect_body = "say \\"ok\\""
        tls = true
        tls_server_name = "web1.example"
        tls_ca_file = "/etc/ssl/lb-ca.pem"
        tls_verify = false

        [[node]]
        address = "10.0.0.2"
        port = 80

        [[node]]
        address = "10.0.0.3"
        port = 5555
        check = "agent"

        [[node]]
        address = "10.0.0.4"
        port = 80
        check = "exec"
        check_command = ["/usr/lib/bb/probe", "--port", "80"]
      TOML
    end
  end

  context 'with a title that is not a valid cluster name and no supervisor_id' do
    let(:title) { 'web app' }
    let(:params) { { 'ip_resources' => TALK['ip_resources'] } }

    it { is_expected.to compile.and_raise_error(/parameter 'supervisor_id' expects a match for Pacemaker::Name/) }
  end
end
