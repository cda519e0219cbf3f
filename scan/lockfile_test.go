package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// at is where a test expects a package or an unassessable entry: the file, and the line of the first
// occurrence of a marker in it (the fixtures are written so each marker is on the entry's declaring line).
type at struct{ file, marker string }

// wantPkg is a package a lockfile declares: ecosystem, name, version, and where.
type wantPkg struct {
	eco, name, version string
	at                 at
}

// wantUnassessable is an entry declared without a matchable version, with a word of its reason.
type wantUnassessable struct {
	name, reason string
	at           at
}

// lockfileCase is a directory of lockfiles written from the format's real shape (npm's, pnpm's, yarn's, pip's,
// poetry's, uv's, pipenv's, Go's, Cargo's, Bundler's and Composer's documentation and the files those tools
// write), and what it declares.
type lockfileCase struct {
	name         string
	files        map[string]string
	want         []wantPkg
	unassessable []wantUnassessable
	notes        []string
}

var lockfileCases = []lockfileCase{
	{
		name: "package-lock.json v1: nested dependencies, an alias, a git and a file dependency",
		files: map[string]string{"web/package-lock.json": `{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 1,
  "requires": true,
  "dependencies": {
    "gitdep": {
      "version": "git+https://github.com/acme/gitdep.git#0123456789abcdef0123456789abcdef01234567",
      "from": "git+https://github.com/acme/gitdep.git"
    },
    "local": {
      "version": "file:../local"
    },
    "lodash": {
      "version": "4.17.20",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
      "integrity": "sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA=="
    },
    "string-width-cjs": {
      "version": "npm:string-width@4.2.3",
      "resolved": "https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz"
    },
    "wrap": {
      "version": "1.0.0",
      "requires": {
        "minimist": "^1.2.0"
      },
      "dependencies": {
        "minimist": {
          "version": "1.2.5",
          "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz"
        }
      }
    }
  }
}
`},
		want: []wantPkg{
			{"npm", "lodash", "4.17.20", at{"web/package-lock.json", `"lodash": {`}},
			{"npm", "string-width", "4.2.3", at{"web/package-lock.json", `"string-width-cjs": {`}},
			{"npm", "wrap", "1.0.0", at{"web/package-lock.json", `"wrap": {`}},
			{"npm", "minimist", "1.2.5", at{"web/package-lock.json", `"minimist": {`}},
		},
		unassessable: []wantUnassessable{{"gitdep", "git dependency (commit 0123456789abcdef", at{"web/package-lock.json", `"gitdep": {`}}},
	},
	{
		name: "package-lock.json v2: packages win over the v1 dependencies kept beside them",
		files: map[string]string{"package-lock.json": `{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 2,
  "requires": true,
  "packages": {
    "": {
      "name": "app",
      "version": "1.0.0",
      "dependencies": {
        "axios": "^0.21.0"
      }
    },
    "node_modules/axios": {
      "version": "0.21.1",
      "resolved": "https://registry.npmjs.org/axios/-/axios-0.21.1.tgz"
    }
  },
  "dependencies": {
    "axios": {
      "version": "0.21.1",
      "resolved": "https://registry.npmjs.org/axios/-/axios-0.21.1.tgz"
    }
  }
}
`},
		want: []wantPkg{{"npm", "axios", "0.21.1", at{"package-lock.json", `"node_modules/axios": {`}}},
	},
	{
		name: "package-lock.json v3: scoped, aliased, nested (once per version), workspaces and links left out",
		files: map[string]string{"package-lock.json": `{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "app",
      "version": "1.0.0",
      "workspaces": [
        "packages/*"
      ]
    },
    "node_modules/@babel/code-frame": {
      "version": "7.12.13",
      "resolved": "https://registry.npmjs.org/@babel/code-frame/-/code-frame-7.12.13.tgz",
      "dev": true
    },
    "node_modules/cjs": {
      "name": "string-width",
      "version": "4.2.3",
      "resolved": "https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz"
    },
    "node_modules/lodash": {
      "version": "4.17.21"
    },
    "node_modules/pkg-a": {
      "resolved": "packages/a",
      "link": true
    },
    "node_modules/wrap/node_modules/lodash": {
      "version": "4.17.20"
    },
    "node_modules/other/node_modules/lodash": {
      "version": "4.17.20"
    },
    "packages/a": {
      "name": "pkg-a",
      "version": "0.1.0"
    }
  }
}
`},
		want: []wantPkg{
			{"npm", "@babel/code-frame", "7.12.13", at{"package-lock.json", `"node_modules/@babel/code-frame"`}},
			{"npm", "string-width", "4.2.3", at{"package-lock.json", `"node_modules/cjs"`}},
			{"npm", "lodash", "4.17.21", at{"package-lock.json", `"node_modules/lodash"`}},
			{"npm", "lodash", "4.17.20", at{"package-lock.json", `"node_modules/wrap/node_modules/lodash"`}},
		},
	},
	{
		name: "npm-shrinkwrap.json is read, not the package-lock.json beside it",
		files: map[string]string{
			"npm-shrinkwrap.json": "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/minimist\": {\"version\": \"1.2.5\"}\n  }\n}\n",
			"package-lock.json":   "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/minimist\": {\"version\": \"1.2.8\"}\n  }\n}\n",
		},
		want: []wantPkg{{"npm", "minimist", "1.2.5", at{"npm-shrinkwrap.json", `"node_modules/minimist"`}}},
	},
	{
		name: "pnpm-lock.yaml v5.4: /name/version_peers",
		files: map[string]string{"pnpm-lock.yaml": `lockfileVersion: 5.4

specifiers:
  '@babel/core': ^7.20.0
  lodash: ^4.17.20

dependencies:
  lodash: 4.17.20

devDependencies:
  '@babel/core': 7.20.0_supports-color@5.5.0

packages:

  /@babel/core/7.20.0_supports-color@5.5.0:
    resolution: {integrity: sha512-tZoUH/NXlvDbMpdqRINQnVNGw6eWxcuN4uZ7w0I6fUzoL/hddSXBpGnXKcdiFcpCehjzaDrA55ULGuNKpBUUg==}
    engines: {node: '>=6.9.0'}
    dev: true

  /lodash/4.17.20:
    resolution: {integrity: sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==}
    dev: false
`},
		want: []wantPkg{
			{"npm", "@babel/core", "7.20.0", at{"pnpm-lock.yaml", "  /@babel/core/7.20.0_"}},
			{"npm", "lodash", "4.17.20", at{"pnpm-lock.yaml", "  /lodash/4.17.20:"}},
		},
	},
	{
		name: "pnpm-lock.yaml v6.0: /name@version(peers)",
		files: map[string]string{"pnpm-lock.yaml": `lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  lodash:
    specifier: ^4.17.20
    version: 4.17.20

packages:

  /@babel/core@7.20.0(supports-color@5.5.0):
    resolution: {integrity: sha512-tZoUH/NXlvDbMpdqRINQnVNGw6eWxcuN4uZ7w0I6fUzoL/hddSXBpGnXKcdiFcpCehjzaDrA55ULGuNKpBUUg==}
    dev: true

  /lodash@4.17.20:
    resolution: {integrity: sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==}
    dev: false

  /next@13.4.0(react-dom@18.2.0(react@18.2.0))(react@18.2.0):
    resolution: {integrity: sha512-y6vPfBwJjXgYxbiMaXYQmEBWbwDZgJzpvJF2XHqoW+o7W3fIGN8jN2XH9nbsELzBTSYcHpTHojvS9NtE36lqXQ==}
    dev: false

  /ts-node@10.9.1(@types/node@20.10.4)(typescript@5.3.3):
    resolution: {integrity: sha512-NtVysVPkxxrwFGUUxGYhfux8k78pQB3JqYBXlLRZgdGUqTO5wU/UyHop5p70iEbGhB7q5KmiZiU0Y3KlJrScEw==}
    dev: true
`},
		want: []wantPkg{
			{"npm", "@babel/core", "7.20.0", at{"pnpm-lock.yaml", "  /@babel/core@7.20.0("}},
			{"npm", "lodash", "4.17.20", at{"pnpm-lock.yaml", "  /lodash@4.17.20:"}},
			{"npm", "next", "13.4.0", at{"pnpm-lock.yaml", "  /next@13.4.0("}},
			{"npm", "ts-node", "10.9.1", at{"pnpm-lock.yaml", "  /ts-node@10.9.1("}},
		},
	},
	{
		name: "pnpm-lock.yaml v9.0: name@version, a git tarball unassessable",
		files: map[string]string{"app/pnpm-lock.yaml": `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      lodash:
        specifier: ^4.17.20
        version: 4.17.20

packages:

  '@babel/core@7.20.0':
    resolution: {integrity: sha512-tZoUH/NXlvDbMpdqRINQnVNGw6eWxcuN4uZ7w0I6fUzoL/hddSXBpGnXKcdiFcpCehjzaDrA55ULGuNKpBUUg==}
    engines: {node: '>=6.9.0'}

  gitdep@https://codeload.github.com/acme/gitdep/tar.gz/0123456789abcdef:
    resolution: {tarball: https://codeload.github.com/acme/gitdep/tar.gz/0123456789abcdef}
    version: 1.0.0

  lodash@4.17.20:
    resolution: {integrity: sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==}

snapshots:

  '@babel/core@7.20.0(supports-color@5.5.0)': {}

  lodash@4.17.20: {}
`},
		want: []wantPkg{
			{"npm", "@babel/core", "7.20.0", at{"app/pnpm-lock.yaml", "  '@babel/core@7.20.0':"}},
			{"npm", "lodash", "4.17.20", at{"app/pnpm-lock.yaml", "  lodash@4.17.20:\n    resolution"}},
		},
		unassessable: []wantUnassessable{{"gitdep", "commit 0123456789abcdef", at{"app/pnpm-lock.yaml", "  gitdep@"}}},
	},
	{
		name: "yarn.lock v1: specifier lists, a scoped name, an alias, a git dependency",
		files: map[string]string{"yarn.lock": `# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658"
  integrity sha512-HV1Cm0Q3ZrpCR93tkWOYiuYIgLxZXZFVG2VgK+MBWjUqZTundupbfx2aXarXuw5Ko5aMcjtJgbSs4vUGBS5v6g==
  dependencies:
    "@babel/highlight" "^7.12.13"

"gitdep@git+https://github.com/acme/gitdep.git":
  version "1.0.0"
  resolved "git+https://github.com/acme/gitdep.git#0123456789abcdef0123456789abcdef01234567"

lodash@^4.17.20, lodash@^4.17.4:
  version "4.17.20"
  resolved "https://registry.yarnpkg.com/lodash/-/lodash-4.17.20.tgz#b44a9b6297bcb698f1c51a3545a2b3b368d59c52"
  integrity sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==

"string-width-cjs@npm:string-width@^4.2.0":
  version "4.2.3"
  resolved "https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz#269c7117d27b05ad2e536830a8ec895ef9c6d010"
`},
		want: []wantPkg{
			{"npm", "@babel/code-frame", "7.12.13", at{"yarn.lock", `"@babel/code-frame@^7.0.0"`}},
			{"npm", "lodash", "4.17.20", at{"yarn.lock", "lodash@^4.17.20, "}},
			{"npm", "string-width", "4.2.3", at{"yarn.lock", `"string-width-cjs@`}},
		},
		unassessable: []wantUnassessable{{"gitdep", "git dependency", at{"yarn.lock", `"gitdep@`}}},
	},
	{
		name: "yarn.lock berry: the resolution names the package; the workspace and patches' duplicates left out",
		files: map[string]string{"yarn.lock": `# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 6
  cacheKey: 8

"@babel/code-frame@npm:^7.0.0":
  version: 7.12.13
  resolution: "@babel/code-frame@npm:7.12.13"
  dependencies:
    "@babel/highlight": ^7.12.13
  checksum: 471532bb7cb4a300bd1a3201e75e7c0c83ebfb4e0e6610fdb53270521505d7efe0961258de61e7b1970ef3092a97ed675248ee1a44597912a1f61f903d85ef41
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    lodash: ^4.17.20
  languageName: unknown
  linkType: soft

"lodash@npm:^4.17.20":
  version: 4.17.20
  resolution: "lodash@npm:4.17.20"
  checksum: b31afa09739b7292a88ec49ffdb2fcaeb41f690def010f7a067eeedffece32da6b6ac5764fd00dc4d9ad0a6ee3b2a7a6a2a0db5f0e35c4bf0f0d1cd7fa7b7a6a
  languageName: node
  linkType: hard

"pkg-b@workspace:packages/b":
  version: 0.0.0-use.local
  resolution: "pkg-b@workspace:packages/b"
  languageName: unknown
  linkType: soft

"resolve@patch:resolve@^1.20.0#~builtin<compat/resolve>":
  version: 1.22.1
  resolution: "resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b"
  languageName: node
  linkType: hard

"string-width-cjs@npm:string-width@^4.2.0":
  version: 4.2.3
  resolution: "string-width@npm:4.2.3"
  languageName: node
  linkType: hard
`},
		want: []wantPkg{
			{"npm", "@babel/code-frame", "7.12.13", at{"yarn.lock", `"@babel/code-frame@npm:^7.0.0":`}},
			{"npm", "lodash", "4.17.20", at{"yarn.lock", `"lodash@npm:^4.17.20":`}},
			{"npm", "resolve", "1.22.1", at{"yarn.lock", `"resolve@patch:`}},
			{"npm", "string-width", "4.2.3", at{"yarn.lock", `"string-width-cjs@`}},
		},
	},
	{
		name: "requirements.txt: == pins only; the rest unassessable at its line; -r followed; hashes, extras, markers",
		files: map[string]string{
			"requirements.txt": `# the service's dependencies
-r requirements/base.txt
--index-url https://pypi.org/simple
requests==2.19.0 \
    --hash=sha256:63b52e3c866428a224f97cab011de738c36aec0185aa91cfacd418b5d58911d1
Jinja2[i18n] == 3.1.2 ; python_version >= "3.8"
urllib3>=1.26.0
django
zope.interface===5.4.0
flask==2.*
-e git+https://github.com/acme/mylib.git#egg=mylib
-e .
./vendored/tool
six==1.16.0  # pinned on purpose
`,
			"requirements/base.txt": "click==8.0.0\n",
		},
		want: []wantPkg{
			{"PyPI", "requests", "2.19.0", at{"requirements.txt", "requests=="}},
			{"PyPI", "Jinja2", "3.1.2", at{"requirements.txt", "Jinja2"}},
			{"PyPI", "zope.interface", "5.4.0", at{"requirements.txt", "zope.interface"}},
			{"PyPI", "six", "1.16.0", at{"requirements.txt", "six=="}},
			{"PyPI", "click", "8.0.0", at{"requirements/base.txt", "click"}},
		},
		unassessable: []wantUnassessable{
			{"urllib3", "not pinned (>=1.26.0)", at{"requirements.txt", "urllib3"}},
			{"django", "not pinned (no version)", at{"requirements.txt", "django"}},
			{"flask", "not pinned (==2.*)", at{"requirements.txt", "flask"}},
			{"git+https://github.com/acme/mylib.git#egg=mylib", "editable install", at{"requirements.txt", "-e git+"}},
		},
	},
	{
		name: "poetry.lock: packages at their name lines, a git source unassessable",
		files: map[string]string{"poetry.lock": `# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "certifi"
version = "2023.7.22"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = [
    {file = "certifi-2023.7.22-py3-none-any.whl", hash = "sha256:92d6037539857d8206b8f6ae472e8b77db8058fec5937a1ef3f54304089edbb9"},
]

[[package]]
name = "jinja2"
version = "3.1.2"
description = "A very fast and expressive template engine."
optional = false
python-versions = ">=3.7"
files = [
    {file = "Jinja2-3.1.2-py3-none-any.whl", hash = "sha256:6088930bfe239f0e6710546ab9c19c9ef35e29792895fed6e6e31a023a182a61"},
]

[package.dependencies]
MarkupSafe = ">=2.0"

[package.extras]
i18n = ["Babel (>=2.7)"]

[[package]]
name = "mylib"
version = "0.1.0"
description = ""
optional = false
python-versions = "*"
files = []
develop = false

[package.source]
type = "git"
url = "https://github.com/acme/mylib.git"
reference = "HEAD"
resolved_reference = "0123456789abcdef"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "5f3c9b0b2bd1b3c1e0f1b0e4e2b7b6f5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9"
`},
		want: []wantPkg{
			{"PyPI", "certifi", "2023.7.22", at{"poetry.lock", `name = "certifi"`}},
			{"PyPI", "jinja2", "3.1.2", at{"poetry.lock", `name = "jinja2"`}},
		},
		unassessable: []wantUnassessable{{"mylib", "commit 0123456789abcdef", at{"poetry.lock", `name = "mylib"`}}},
	},
	{
		name: "uv.lock: the project itself left out",
		files: map[string]string{"uv.lock": `version = 1
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "requests" },
]

[package.metadata]
requires-dist = [{ name = "requests", specifier = ">=2.19" }]

[[package]]
name = "certifi"
version = "2024.2.2"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.pythonhosted.org/packages/71/da/e94e26401b62acd6d91df2b52954aceb7f561743aa5ccc32152886c76c96/certifi-2024.2.2.tar.gz", hash = "sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f", size = 164886 }
wheels = [
    { url = "https://files.pythonhosted.org/packages/ba/06/a07f096c664aeb9f01624f858c3add0a4e913d6c96257acb4fce61e7de14/certifi-2024.2.2-py3-none-any.whl", hash = "sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1", size = 163774 },
]

[[package]]
name = "requests"
version = "2.19.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "certifi" },
]
`},
		want: []wantPkg{
			{"PyPI", "certifi", "2024.2.2", at{"uv.lock", `name = "certifi"`}},
			{"PyPI", "requests", "2.19.0", at{"uv.lock", `name = "requests"` + "\nversion"}},
		},
	},
	{
		name: "Pipfile.lock: default and develop, a git dependency unassessable",
		files: map[string]string{"Pipfile.lock": `{
    "_meta": {
        "hash": {
            "sha256": "7f7606f08e0544d8d012ef4d097dabdd6df6843a28793eb6551245d4b2db4242"
        },
        "pipfile-spec": 6,
        "requires": {
            "python_version": "3.11"
        },
        "sources": [
            {
                "name": "pypi",
                "url": "https://pypi.org/simple",
                "verify_ssl": true
            }
        ]
    },
    "default": {
        "mylib": {
            "git": "https://github.com/acme/mylib.git",
            "ref": "0123456789abcdef"
        },
        "requests": {
            "hashes": [
                "sha256:63b52e3c866428a224f97cab011de738c36aec0185aa91cfacd418b5d58911d1"
            ],
            "index": "pypi",
            "version": "==2.19.0"
        }
    },
    "develop": {
        "pytest": {
            "hashes": [
                "sha256:841132caef6b1ad17a9afde46dc4f6cfa59a05f9555aae5151f73bdf2820ca60"
            ],
            "markers": "python_version >= '3.7'",
            "version": "==7.0.0"
        }
    }
}
`},
		want: []wantPkg{
			{"PyPI", "requests", "2.19.0", at{"Pipfile.lock", `"requests": {`}},
			{"PyPI", "pytest", "7.0.0", at{"Pipfile.lock", `"pytest": {`}},
		},
		unassessable: []wantUnassessable{{"mylib", "ref 0123456789abcdef", at{"Pipfile.lock", `"mylib": {`}}},
	},
	{
		name: "go.mod (go 1.21): requirements with replacements applied at the replace line; go.sum not needed",
		files: map[string]string{"svc/go.mod": `module example.com/svc

go 1.21

toolchain go1.21.3

require (
	github.com/gin-gonic/gin v1.8.0
	golang.org/x/net v0.10.0 // indirect
	example.com/internal/lib v0.0.0-00010101000000-000000000000
	golang.org/x/text v0.9.0 // indirect
)

replace golang.org/x/net => golang.org/x/net v0.12.0

replace example.com/internal/lib => ../lib

replace golang.org/x/text v0.9.0 => golang.org/x/text v0.9.1
`},
		want: []wantPkg{
			{"Go", "github.com/gin-gonic/gin", "v1.8.0", at{"svc/go.mod", "gin-gonic"}},
			{"Go", "golang.org/x/net", "v0.12.0", at{"svc/go.mod", "replace golang.org/x/net"}},
			{"Go", "golang.org/x/text", "v0.9.1", at{"svc/go.mod", "replace golang.org/x/text"}},
		},
	},
	{
		name: "go.mod (go 1.16) with go.sum: the indirect modules from go.sum, the newest version of each",
		files: map[string]string{
			"go.mod": "module example.com/old\n\ngo 1.16\n\nrequire github.com/gin-gonic/gin v1.7.0\n",
			"go.sum": `github.com/gin-gonic/gin v1.7.0 h1:jGB9xAJQ12AIGNB4HguylppmDK1Am9ppF7XnGXXJuoU=
github.com/gin-gonic/gin v1.7.0/go.mod h1:jD2toBW3GZUr5UMcdrwQA10I7RuaFOl/SGeDjXkfUtY=
golang.org/x/crypto v0.0.0-20200622213623-75b288015ac9/go.mod h1:LzIPMQfyMNhhGPhUkYOs5KpL4U8rLKemX1yGLhDgUto=
golang.org/x/crypto v0.0.0-20210711020723-a769d52b0f9f h1:aUFGxqTxr6w2jS5h1x6RjKUEjH4sTqEoJ4DZTNt0h3c=
golang.org/x/crypto v0.0.0-20210711020723-a769d52b0f9f/go.mod h1:GvvjBRRGRdwPK5ydBHafDWAxML/pGHZbMvKqRZ5+Abc=
golang.org/x/net v0.0.0-20210226172049-e18ecbb05110 h1:qWPm9rbaAMKs8Bq/9LRpbMqxWRVUAQwMI9fVrssnTfw=
`,
		},
		want: []wantPkg{
			{"Go", "github.com/gin-gonic/gin", "v1.7.0", at{"go.mod", "require"}},
			{"Go", "golang.org/x/crypto", "v0.0.0-20210711020723-a769d52b0f9f", at{"go.sum", "golang.org/x/crypto v0.0.0-20210711020723-a769d52b0f9f h1"}},
			{"Go", "golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110", at{"go.sum", "golang.org/x/net"}},
		},
	},
	{
		name:  "go.mod (go 1.16) without go.sum: a note that the indirect modules are not assessed",
		files: map[string]string{"go.mod": "module example.com/old\n\ngo 1.16\n\nrequire github.com/gin-gonic/gin v1.7.0\n"},
		want:  []wantPkg{{"Go", "github.com/gin-gonic/gin", "v1.7.0", at{"go.mod", "require"}}},
		notes: []string{"go.mod:3: before Go 1.17 go.mod lists only the direct dependencies, and there is no go.sum"},
	},
	{
		name: "Cargo.lock: registry crates; the workspace's own crate left out, a git crate unassessable",
		files: map[string]string{"Cargo.lock": `# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "aho-corasick"
version = "0.7.18"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1e37cfd5e7657ada45f742d6e99ca5788580b5c529dc78faf11ece6dc702656f"
dependencies = [
 "memchr",
]

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "mycrate",
 "regex",
]

[[package]]
name = "mycrate"
version = "0.2.0"
source = "git+https://github.com/acme/mycrate?branch=main#0123456789abcdef"

[[package]]
name = "regex"
version = "1.5.4"
source = "sparse+https://index.crates.io/"
checksum = "d07a8629359eb56f1e2fb1652bb04212c072a87ba68546a04065d525673ac461"
`},
		want: []wantPkg{
			{"crates.io", "aho-corasick", "0.7.18", at{"Cargo.lock", `name = "aho-corasick"`}},
			{"crates.io", "regex", "1.5.4", at{"Cargo.lock", `name = "regex"`}},
		},
		unassessable: []wantUnassessable{{"mycrate", "commit 0123456789abcdef", at{"Cargo.lock", `name = "mycrate"`}}},
	},
	{
		name: "Gemfile.lock: GEM specs with platforms; PATH's gems left out, GIT's unassessable",
		files: map[string]string{"Gemfile.lock": `GIT
  remote: https://github.com/acme/mygem.git
  revision: 0123456789abcdef
  specs:
    mygem (0.1.0)

PATH
  remote: .
  specs:
    app (1.0.0)
      rack

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.13.10-x86_64-linux)
      racc (~> 1.4)
    racc (1.6.0)
    rack (2.2.3)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  app!
  mygem!
  nokogiri
  rack (~> 2.2)

BUNDLED WITH
   2.4.10
`},
		want: []wantPkg{
			{"RubyGems", "nokogiri", "1.13.10", at{"Gemfile.lock", "    nokogiri ("}},
			{"RubyGems", "racc", "1.6.0", at{"Gemfile.lock", "    racc (1.6.0)"}},
			{"RubyGems", "rack", "2.2.3", at{"Gemfile.lock", "    rack (2.2.3)"}},
		},
		unassessable: []wantUnassessable{{"mygem", "revision 0123456789abcdef", at{"Gemfile.lock", "    mygem (0.1.0)"}}},
	},
	{
		name: "composer.lock: packages and packages-dev at their name lines, a branch unassessable",
		files: map[string]string{"composer.lock": `{
    "_readme": [
        "This file locks the dependencies of your project to a known state",
        "Read more about it at https://getcomposer.org/doc/01-basic-usage.md#installing-dependencies",
        "This file is @generated automatically"
    ],
    "content-hash": "8a4c2b4e6f1d3c5b7a9e0f2d4c6b8a0e",
    "packages": [
        {
            "name": "acme/lib",
            "version": "dev-main",
            "source": {
                "type": "git",
                "url": "https://github.com/acme/lib.git",
                "reference": "0123456789abcdef"
            },
            "type": "library"
        },
        {
            "name": "guzzlehttp/guzzle",
            "version": "7.4.0",
            "source": {
                "type": "git",
                "url": "https://github.com/guzzle/guzzle.git",
                "reference": "868b3571a039f0ebc11ac8f344f4080babe2cb94"
            },
            "require": {
                "php": "^7.2.5 || ^8.0"
            },
            "type": "library"
        }
    ],
    "packages-dev": [
        {
            "name": "phpunit/phpunit",
            "version": "9.5.10",
            "type": "library"
        }
    ],
    "aliases": [],
    "minimum-stability": "stable",
    "prefer-stable": false,
    "platform": [],
    "plugin-api-version": "2.3.0"
}
`},
		want: []wantPkg{
			{"Packagist", "guzzlehttp/guzzle", "7.4.0", at{"composer.lock", `"name": "guzzlehttp/guzzle"`}},
			{"Packagist", "phpunit/phpunit", "9.5.10", at{"composer.lock", `"name": "phpunit/phpunit"`}},
		},
		unassessable: []wantUnassessable{{"acme/lib", "a branch (commit 0123456789abcdef)", at{"composer.lock", `"name": "acme/lib"`}}},
	},
	{
		name: "vendored trees are someone else's: node_modules, vendor and .git skipped",
		files: map[string]string{
			"node_modules/dep/package-lock.json": "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/x\": {\"version\": \"1.0.0\"}}}\n",
			"vendor/github.com/x/y/go.mod":       "module github.com/x/y\n\ngo 1.21\n\nrequire golang.org/x/net v0.1.0\n",
			"php/vendor/composer.lock":           "{\"packages\": [{\"name\": \"a/b\", \"version\": \"1.0.0\"}]}\n",
			".git/requirements.txt":              "requests==2.19.0\n",
		},
	},
}

// writeTree writes files (slash paths) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// lineOf is the line of the first occurrence of marker in a fixture.
func lineOf(t *testing.T, files map[string]string, a at) int {
	t.Helper()
	body, ok := files[a.file]
	i := strings.Index(body, a.marker)
	if !ok || i < 0 {
		t.Fatalf("fixture %s has no %q", a.file, a.marker)
	}
	return strings.Count(body[:i], "\n") + 1
}

// Each lockfile format's packages: name, version, ecosystem, the lockfile and the line that declares them; and
// the entries declared without a version OSV can be matched with, each at its line with its reason.
func TestLockfileFormats(t *testing.T) {
	for _, tc := range lockfileCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			lf, err := ReadLockfiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(lf.Unreadable) > 0 {
				t.Fatalf("unreadable: %v", lf.Unreadable)
			}
			var got, want []string
			for _, p := range lf.Packages {
				got = append(got, fmt.Sprintf("%s %s %s %s:%d", p.Ecosystem, p.Name, p.Version, p.Path, p.Line))
				if p.PURL == "" || p.Type == "" || p.Layer != -1 {
					t.Errorf("%s: purl %q, type %q, layer %d", p.Name, p.PURL, p.Type, p.Layer)
				}
			}
			for _, w := range tc.want {
				want = append(want, fmt.Sprintf("%s %s %s %s:%d", w.eco, w.name, w.version, w.at.file, lineOf(t, tc.files, w.at)))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("packages:\ngot  %q\nwant %q", got, want)
			}
			if len(lf.Unassessable) != len(tc.unassessable) {
				t.Errorf("unassessable: got %+v, want %+v", lf.Unassessable, tc.unassessable)
			}
			for _, w := range tc.unassessable {
				line := lineOf(t, tc.files, w.at)
				if !slices.ContainsFunc(lf.Unassessable, func(u Unassessable) bool {
					return u.Name == w.name && u.Path == w.at.file && u.Line == line && strings.Contains(u.Reason, w.reason) && u.Declared != ""
				}) {
					t.Errorf("no unassessable %s at %s:%d (%q) in %+v", w.name, w.at.file, line, w.reason, lf.Unassessable)
				}
			}
			if len(lf.Notes) != len(tc.notes) {
				t.Errorf("notes: %q, want %q", lf.Notes, tc.notes)
			}
			for i, n := range tc.notes {
				if i < len(lf.Notes) && !strings.HasPrefix(lf.Notes[i], n) {
					t.Errorf("note %q, want %q", lf.Notes[i], n)
				}
			}
		})
	}
}

// A lockfile that cannot be read is named with the line (and column) of the fault, the others still read.
func TestLockfileErrors(t *testing.T) {
	for _, tc := range []struct{ file, body, want string }{
		{"package-lock.json", "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\"version\": 1.0.0}\n  }\n}\n", "package-lock.json:4:"},
		{"package-lock.json", "{\n  \"lockfileVersion\": 3,\n  \"packages\": [\n    1\n  ]\n}\n", "package-lock.json:3:"},
		{"Pipfile.lock", "{\n  \"default\": {\n    \"requests\": {\"version\": \"==2.19.0\",}\n  }\n}\n", "Pipfile.lock:3:"},
		{"composer.lock", "{\n  \"packages\": [\n", "composer.lock:3:1: not JSON: unexpected end"},
		{"pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.20:\n    resolution: {integrity: x\n  a: [\n", "pnpm-lock.yaml:"},
		{"poetry.lock", "[[package]]\nname = \"x\"\nversion = 1.0.0\n", "poetry.lock:3:"},
		{"Cargo.lock", "version = 3\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \n", "Cargo.lock:6:"},
		{"go.mod", "module example.com/x\n\ngo 1.21\n\nrequire github.com/x/y\n", "go.mod:5: not a go.mod"},
		{"requirements.txt", "requests==2.19.0\n===oops\n", "requirements.txt:2: not a requirement (want a name, then a version specifier); the line is not shown"},
		{"Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n     \n    (1.0)\n", "Gemfile.lock:5:"},
		{"yarn.lock", "  version \"1.0.0\"\n", "yarn.lock:1: not a yarn lockfile"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := writeTree(t, map[string]string{tc.file: tc.body, "ok/requirements.txt": "six==1.16.0\n"})
			lf, err := ReadLockfiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(lf.Unreadable) != 1 || !strings.HasPrefix(lf.Unreadable[0], tc.want) {
				t.Errorf("unreadable %q, want one starting %q", lf.Unreadable, tc.want)
			}
			if len(lf.Packages) != 1 || lf.Packages[0].Name != "six" {
				t.Errorf("the other lockfile: %+v", lf.Packages)
			}
		})
	}
}

// A dependency's URL may carry a token: what the report says of it never shows one.
func TestLockfileRedactsCredentials(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"requirements.txt":  "-e git+https://deploy:s3cr3t-t0ken@github.com/acme/private.git#egg=private\n",
		"package-lock.json": "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/p\": {\"version\": \"1.0.0\", \"resolved\": \"git+https://x-access-token:s3cr3t-t0ken@github.com/acme/p.git#0123456789abcdef\"}}}\n",
	})
	lf, err := ReadLockfiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(lf.Unassessable) != 2 || strings.Contains(fmt.Sprintf("%+v", lf.Unassessable), "s3cr3t") ||
		!strings.Contains(lf.Unassessable[0].Declared, "https://***@github.com/acme/p.git") {
		t.Errorf("unassessable: %+v", lf.Unassessable)
	}
}

// BenchmarkReadLockfiles reads a large monorepo's package-lock.json: 10,000 installed packages (about 3 MB),
// each with the fields npm writes.
func BenchmarkReadLockfiles(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("{\n  \"name\": \"mono\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\"name\": \"mono\", \"version\": \"1.0.0\"}")
	for i := range 10000 {
		fmt.Fprintf(&sb, ",\n    \"node_modules/pkg-%d\": {\n      \"version\": \"1.%d.0\",\n      \"resolved\": \"https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.%d.0.tgz\",\n"+
			"      \"integrity\": \"sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==\",\n"+
			"      \"dependencies\": {\n        \"pkg-%d\": \"^1.0.0\"\n      }\n    }", i, i%50, i, i, i%50, (i+1)%10000)
	}
	sb.WriteString("\n  }\n}\n")
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		lf, err := ReadLockfiles(dir)
		if err != nil || len(lf.Packages) != 10000 {
			b.Fatalf("%v, %d packages", err, len(lf.Packages))
		}
	}
}

// A requirements file's -r include cannot read outside the directory scanned, through ".." or a symbolic link.
func TestLockfileIncludesStayInTheDirectory(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("hunter2-outside==1.0\n"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "link"))
	os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("-r link/secret.txt\n-r ../x.txt\nrequests==2.19.0\n"), 0o644)
	lf, err := ReadLockfiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf("%+v", lf)
	if strings.Contains(raw, "hunter2") || len(lf.Packages) != 1 || lf.Packages[0].Name != "requests" {
		t.Errorf("an include outside the directory was read: %s", raw)
	}
}
