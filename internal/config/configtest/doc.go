// Package configtest checks a package's bad configuration files, written
// the one way the tree writes them: testdata/*.bad.yaml, each starting
// with the line "# want: <text>", a text its error must contain (a field
// path, a line number). The expected error sits in the file it is about,
// so a new case is one new file.
package configtest
