# frozen_string_literal: true

# rspec-puppet setup that works offline with Debian's ruby-rspec-puppet: no fixtures download,
# no Rakefile. The module directory is named `puppet/` in the repository, but Puppet finds a
# module by its directory name, so a private module path holds one symlink `pacemaker` -> here.
# Run `rspec` from puppet/.

require 'fileutils'
require 'tmpdir'
require 'rspec-puppet'

MODULE_ROOT = File.expand_path('..', __dir__)
MODULE_PATH = Dir.mktmpdir('pacemaker-modulepath-')
File.symlink(MODULE_ROOT, File.join(MODULE_PATH, 'pacemaker'))
MANIFEST_DIR = File.join(MODULE_PATH, 'manifests')
FileUtils.mkdir_p(MANIFEST_DIR)
FileUtils.touch(File.join(MANIFEST_DIR, 'site.pp'))
at_exit { FileUtils.remove_entry(MODULE_PATH) }

RSpec.configure do |c|
  c.module_path = MODULE_PATH
  c.manifest = File.join(MANIFEST_DIR, 'site.pp')
  # The gem would otherwise symlink spec/fixtures/modules/<name> into this tree.
  c.setup_fixtures = false
  # No Hiera in these tests; an empty config keeps Puppet from reading the host's.
  c.hiera_config = File.join(MODULE_PATH, 'hiera.yaml')
  File.write(c.hiera_config, "---\nversion: 5\nhierarchy: []\n")
  c.default_facts = {
    'os' => { 'family' => 'Debian', 'name' => 'Debian', 'release' => { 'major' => '12' } },
    'networking' => { 'hostname' => 'load1', 'fqdn' => 'load1.example.com' },
  }
  c.strict_variables = true
end

# Puppet's `:array` log destination matches objects of this class name (Puppet's own test suite
# defines it; the packaged gem does not ship it). Used to see the define's compile-time warning.
module Puppet
  module Test
    class LogCollector
      def initialize(logs)
        @logs = logs
      end

      def <<(value)
        @logs << value
      end
    end
  end
end

# Everything Puppet logs goes here for the whole run (with no destination at all, Puppet queues
# messages and hands them to the next destination, mixing examples up).
PUPPET_LOGS = []
Puppet::Util::Log.newdestination(Puppet::Test::LogCollector.new(PUPPET_LOGS))

# The warnings Puppet logs while compiling the example's catalog. rspec-puppet caches compiled
# catalogs (and a cached compile logs nothing), so the cache is emptied first.
def compile_warnings
  RSpec::Puppet::Support.class_variable_set(:@@cache, RSpec::Puppet::Cache.new)
  PUPPET_LOGS.clear
  catalogue
  PUPPET_LOGS.select { |l| l.level == :warning }.map(&:message)
end
