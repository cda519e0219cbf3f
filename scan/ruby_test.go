package scan

import (
	"strings"
	"testing"
)

// installedGemspec is a gemspec as RubyGems writes one when it installs a gem (the shape of Debian's
// rubygems-integration specifications): literal name and version first, frozen strings, more assignments after.
func installedGemspec(name, version string) string {
	return `# -*- encoding: utf-8 -*-
# stub: ` + name + ` ` + version + ` ruby lib

Gem::Specification.new do |s|
  s.name = "` + name + `".freeze
  s.version = "` + version + `"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.homepage = "https://example.org/#{s.name}".freeze
  s.rubygems_version = "3.3.15".freeze
  s.specification_version = 4
  s.add_development_dependency(%q<rake>.freeze, [">= 0"])
end
`
}

// An installed gemspec's literal name and version make a RubyGems package; the first assignment wins, and a
// gemspec whose name or version is computed, or that is not under specifications/, is no package.
func TestGemPackages(t *testing.T) {
	for _, tt := range []struct{ name, path, spec, want string }{
		{"Debian's", "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec", installedGemspec("rack", "2.2.22"),
			"gem rack 2.2.22 RubyGems pkg:gem/rack@2.2.22"},
		{"a native gem's", "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/specifications/nokogiri-1.13.10.gemspec",
			installedGemspec("nokogiri", "1.13.10"), "gem nokogiri 1.13.10 RubyGems pkg:gem/nokogiri@1.13.10"},
		{"a default gem's, single quotes", "/usr/local/lib/ruby/gems/3.3.0/specifications/default/json-2.7.1.gemspec",
			"Gem::Specification.new do |spec|\n  spec.name = 'json'\n  spec.version = '2.7.1' # default gem\nend\n", "gem json 2.7.1 RubyGems pkg:gem/json@2.7.1"},
		{"a bundle's", "/app/vendor/bundle/ruby/3.3.0/specifications/rails-7.1.3.gemspec",
			strings.Replace(installedGemspec("rails", "7.1.3"), `  s.require_paths`, `  s.name = "other"`+"\n  s.require_paths", 1),
			"gem rails 7.1.3 RubyGems pkg:gem/rails@7.1.3"},
		{"a computed version", "/gems/specifications/x-1.gemspec", "Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.version = X::VERSION\nend\n", ""},
		{"an interpolated name", "/gems/specifications/x-1.gemspec", "s.name = \"#{prefix}-x\"\ns.version = \"1\"\n", ""},
		{"a gem's source, not installed", "/src/mygem/mygem.gemspec", installedGemspec("mygem", "0.1.0"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fileSystem{files: map[string]found{tt.path: {path: tt.path, layer: 1, data: []byte(tt.spec)}}}
			var got []string
			for _, p := range catalog(fs) {
				got = append(got, strings.Join([]string{p.Type, p.Name, p.Version, p.Ecosystem, p.PURL}, " "))
				if p.Path != tt.path || p.Layer != 1 {
					t.Errorf("path %s layer %d", p.Path, p.Layer)
				}
			}
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// wanted reads Java archives and installed gemspecs, nothing else of theirs.
func TestWantedJavaAndRuby(t *testing.T) {
	for p, want := range map[string]bool{
		"/app/demo.jar": true, "/opt/tomcat/webapps/ROOT.war": true, "/opt/app.EAR": true, "/var/jenkins_home/plugins/git.hpi": true,
		"/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec": true,
		"/app/demo.jar.sha1": false, "/src/gem/gem.gemspec": false, "/usr/share/java/": false,
	} {
		if wanted(p) != want {
			t.Errorf("wanted(%q) = %v", p, !want)
		}
	}
}

func FuzzGemspec(f *testing.F) {
	f.Add([]byte(installedGemspec("rack", "2.2.22")))
	f.Add([]byte("s.name = 'a'\ns.version = '1'\n"))
	f.Add([]byte("s.name = \"a\\\"b\"\ns.version = \"1\".freeze # x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, ok := gemPackage(found{path: "/specifications/x.gemspec", data: data}); ok && (p.Name == "" || p.Version == "") {
			t.Errorf("a package with no name or version: %+v", p)
		}
	})
}
