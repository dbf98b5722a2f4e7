# @summary Renders one value as TOML: an Integer as itself, a String as a TOML basic string.
#
# Only `\` and `"` need escaping: every string parameter's type already refuses control
# characters (Pacemaker::Text and the address/name/path patterns), and TOML takes UTF-8 as is.
#
# @param value The value to render.
# @return [String] TOML text for the value.
#
# @example
#   pacemaker::toml_value('say "hi"')  # => "\"say \\\"hi\\\"\""
function pacemaker::toml_value(Variant[Integer, String] $value) >> String {
  $value ? {
    Integer => String($value),
    default => "\"${regsubst($value, '(["\\\\])', '\\\\\\1', 'G')}\"",
  }
}
