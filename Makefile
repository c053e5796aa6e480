# Hubbub: `make run` starts the desktop app, `make test` runs the whole suite.
# Both create .venv, install the package with its test extras, and install the
# Debian system libraries when run as root (otherwise they print the command).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Runtime: Opus, PortAudio, the libraries Qt's xcb/offscreen platforms load.
# Fonts: DejaVu for text, Noto Color Emoji for emoji in messages (UI icons come from qtawesome's bundled font).
# Building crdt/_native.pyx (the compiled entry and update readers) at install: a C compiler and Python's headers.
# Tests and screenshots: Xvfb, espeak-ng (speech for voice tests), sox, iproute2 (network namespaces),
# desktop-file-utils (validates packaging/hubbub.desktop), coturn and nftables (the relay's WAN tests and
# `bench relay`: TURN and the home routers' NAT in tests/integration/wan.py).
SYSTEM_PACKAGES := libopus0 libportaudio2 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 \
	libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
	libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1 \
	xvfb xauth espeak-ng sox opus-tools iproute2 fonts-dejavu-core fonts-noto-color-emoji desktop-file-utils \
	coturn nftables build-essential python3-dev
# Building the .deb (`make package`, and tests/integration/test_deb.py, which builds it under
# HUBBUB_STRICT=1): Briefcase compiles its launcher against the system Python (/usr/bin/python3) and
# runs from a venv of it, dpkg-deb packs; the test checks the result with lintian, appstreamcli and
# systemd-analyze (the relay's unit, offline),
# and opens a hubbub:// link the way a browser does (gio open, in libglib2.0-bin).
PACKAGE_SYSTEM_PACKAGES := python3-venv dpkg-dev git lintian appstream libglib2.0-bin systemd

.PHONY: run test system-deps venv screenshot bench package lint clean

# What system-deps installs: the runtime and test packages, and for `make test` and `make package`
# the packaging ones too.
NEEDED_PACKAGES = $(SYSTEM_PACKAGES)
test package: NEEDED_PACKAGES = $(SYSTEM_PACKAGES) $(PACKAGE_SYSTEM_PACKAGES)

system-deps:
	@missing=$$(for p in $(NEEDED_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			echo "Installing system packages: $$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null || exit 1; \
		else \
			echo "Hubbub needs these system packages. Run this, then run make again:"; \
			echo "  sudo apt-get install -y $$missing"; \
		fi; \
	fi

$(STAMP): pyproject.toml setup.py crdt/_native.pyx crdt/_native_write.pyx
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

run: system-deps $(STAMP)
	$(VENV)/bin/hubbub

test: system-deps $(STAMP)
	$(PY) -m mypy crdt app p2p ui
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

screenshot: system-deps $(STAMP)
	$(PY) -m ui.screenshot docs/screenshot.png

bench: system-deps $(STAMP)
	$(PY) -m bench crdt

# A Linux system package (.deb on Debian/Ubuntu) built by Briefcase in build/briefcase/; it lands in
# build/briefcase/dist/. packaging/feed_briefcase.py gives Briefcase pyproject.toml + briefcase.toml
# (and, when HUBBUB_BRIEFCASE_TEMPLATE names one, a local copy of its Linux template; .ci/run sets it).
package: system-deps $(STAMP)
	@$(PY) packaging/feed_briefcase.py --deb || { \
	echo "make package: Briefcase failed; see its message above. It needs the Debian packages $(PACKAGE_SYSTEM_PACKAGES), and github.com for its Linux app template unless HUBBUB_BRIEFCASE_TEMPLATE names a git bundle of it."; \
	exit 1; }

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache
