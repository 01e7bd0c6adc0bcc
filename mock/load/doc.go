// Package load reads stub files from disk the way WireMock lays them
// out: a root folder with mappings/ (stub files, in sub-folders too) and
// __files/ (the bodies bodyFileName names). A root without mappings/
// holds its stub files itself; a root may also be one stub file. Files
// ending in .json are WireMock mappings, .yaml and .yml the YAML form;
// others are skipped. Fingerprint tells whether anything changed since,
// for a reload that polls.
package load
