package wire

import (
	"encoding/xml"
	"strings"
	"unicode/utf8"
)

// XStream's XmlFriendlyNameCoder, configured as Eureka configures it
// (dollar replacement "_-", escape replacement "__"), maps names to element
// names: "$" becomes "_-" and "_" becomes "__". That is why the registry
// document has <versions__delta>, and why a metadata key "a_b" comes back
// from a real server as <a__b>.

// EncodeXMLName applies XStream's name coding.
func EncodeXMLName(name string) string {
	if !strings.ContainsAny(name, "$_") {
		return name
	}
	var b strings.Builder
	b.Grow(len(name) + 4)
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '$':
			b.WriteString("_-")
		case '_':
			b.WriteString("__")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// DecodeXMLName reverses EncodeXMLName; a lone "_" stays as it is.
func DecodeXMLName(name string) string {
	if !strings.Contains(name, "_") {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' && i+1 < len(name) {
			switch name[i+1] {
			case '-':
				b.WriteByte('$')
				i++
				continue
			case '_':
				b.WriteByte('_')
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// validXMLName reports whether s can be an element name without a
// namespace prefix. XStream writes any key as it is; we leave out metadata
// entries whose keys would make the whole document unparsable. The test
// is Go's encoding/xml itself, the strictest parser Eureka clients use
// (fargo): it takes XML 1.0's fourth-edition name characters, so a letter
// or combining mark newer than those ("L\u0362") is refused where
// unicode.IsLetter would take it.
func validXMLName(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	if plainXMLName(s) {
		return true // the common case, valid in every edition: skip the decoder
	}
	tok, err := xml.NewDecoder(strings.NewReader("<" + s + "/>")).Token()
	el, ok := tok.(xml.StartElement)
	return err == nil && ok && el.Name.Space == "" && el.Name.Local == s
}

// plainXMLName reports whether s is an ASCII name: a letter or '_', then
// letters, digits, '-', '.' and '_'.
func plainXMLName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}
