# @summary Renders one value as TOML: an Integer or a Boolean as itself, a String as a TOML basic
#   string, an Array of Strings and Integers as a TOML array of them.
#
# A basic string cannot hold `"`, `\` or a control character U+0000–U+001F or U+007F as it is;
# those get TOML's escapes (`\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, else `\uXXXX`). Anything
# else, UTF-8 included, is written as it is. Most string parameters' types refuse control
# characters anyway, but `on_change` arguments may hold newlines (a `sh -c` script).
#
# @param value The value to render.
# @return [String] TOML text for the value.
#
# @example
#   pacemaker::toml_value('say "hi"')           # => "\"say \\\"hi\\\"\""
#   pacemaker::toml_value(['/bin/echo', 'a b']) # => "[\"/bin/echo\", \"a b\"]"
function pacemaker::toml_value(Variant[Integer, Boolean, String, Array[Variant[Integer, String]]] $value) >> String {
  case $value {
    Integer: { String($value) }
    Boolean: { String($value) }
    Array: { "[${value.map |$v| { pacemaker::toml_value($v) }.join(', ')}]" }
    default: {
      $short = { 8 => '\\b', 9 => '\\t', 10 => '\\n', 12 => '\\f', 13 => '\\r' }
      # String(N, '%c') is the character with code N.
      $escapes = Hash((Integer[0, 31].map |$i| { $i } + [127]).map |$i| {
        [String($i, '%c'), $short[$i].lest || { sprintf('\\u%04X', $i) }]
      }) + { '"' => '\\"', '\\' => '\\\\' }
      "\"${value.split('').map |$c| { $escapes[$c].lest || { $c } }.join}\""
    }
  }
}
