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
  it { is_expected.to run.with_params(['a']).and_raise_error(ArgumentError, /expects a value of type Integer or String/) }
  it { is_expected.to run.with_params(1.5).and_raise_error(ArgumentError) }
end
