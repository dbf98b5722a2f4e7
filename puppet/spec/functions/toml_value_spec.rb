# frozen_string_literal: true

require 'spec_helper'

describe 'pacemaker::toml_value' do
  it { is_expected.to run.with_params(7).and_return('7') }
  it { is_expected.to run.with_params(-3).and_return('-3') }
  it { is_expected.to run.with_params('webapp').and_return('"webapp"') }
  it { is_expected.to run.with_params('').and_return('""') }
  it { is_expected.to run.with_params('say "hi"').and_return('"say \"hi\""') }
  it { is_expected.to run.with_params('C:\new\\').and_return('"C:\\\\new\\\\"') }
  it { is_expected.to run.with_params('\\"').and_return('"\\\\\\""') }
  it { is_expected.to run.with_params("Zürich ☃ 'x' # [y]").and_return("\"Zürich ☃ 'x' # [y]\"") }
  # Every character a TOML basic string cannot hold as it is, and its escape.
  it { is_expected.to run.with_params("a\bb\tc\nd\fe\rf").and_return('"a\\bb\\tc\\nd\\fe\\rf"') }
  it { is_expected.to run.with_params("\u0000\u0001\u001f\u007f\e").and_return('"\\u0000\\u0001\\u001F\\u007F\\u001B"') }
  it { is_expected.to run.with_params("\u0080\u0085 \u00a0").and_return("\"\u0080\u0085 \u00a0\"") }
  it { is_expected.to run.with_params([]).and_return('[]') }
  it { is_expected.to run.with_params(['/bin/true']).and_return('["/bin/true"]') }
  it { is_expected.to run.with_params(['/bin/sh', '-c', "echo \"$BB_MESSAGE\" \\\n| cat", '']).and_return('["/bin/sh", "-c", "echo \\"$BB_MESSAGE\\" \\\\\\n| cat", ""]') }
  # Booleans (tls, tls_verify) and arrays of codes and ranges (expect_status), issue 16.
  it { is_expected.to run.with_params(true).and_return('true') }
  it { is_expected.to run.with_params(false).and_return('false') }
  it { is_expected.to run.with_params([200, '300-302']).and_return('[200, "300-302"]') }
  it { is_expected.to run.with_params([true]).and_raise_error(ArgumentError, /index 0 expects a value of type Integer or String, got Boolean/) }
  it { is_expected.to run.with_params([['a']]).and_raise_error(ArgumentError) }
  it { is_expected.to run.with_params({ 'a' => 'b' }).and_raise_error(ArgumentError) }
  it { is_expected.to run.with_params(1.5).and_raise_error(ArgumentError) }
end
