# Sourced by scripts/test and scripts/demo: install what is missing (Debian 12,
# as root), then configure and build build/. Defines step() and die().

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ct_packages=(meson ninja-build pkg-config gcc libunwind-dev uthash-dev libdw-dev libelf-dev zlib1g-dev python3 python3-bitarray python3-numpy libdevel-nytprof-perl)

ct_install_packages() {
    local missing=() p st
    for p in "${ct_packages[@]}"; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ $st == "install ok installed" ]] || missing+=("$p")
    done
    # LLVM's libunwind-14-dev *provides* the name libunwind-dev; the project
    # needs the nongnu libunwind 1.6.x, which ships libunwind.pc.
    if [[ " ${missing[*]} " != *" libunwind-dev "* ]]; then
        local v
        v=$(dpkg-query -W -f='${Version}' libunwind-dev 2>/dev/null || true)
        if [[ $v != 1.6* ]] || ! pkg-config --exists libunwind 2>/dev/null; then
            echo "libunwind-dev: found '${v:-nothing}', need the nongnu libunwind 1.6.x (pkg-config libunwind)"
            missing+=(libunwind-dev)
        fi
    fi
    if ((${#missing[@]} == 0)); then
        echo "packages: all present (${ct_packages[*]})"
        return 0
    fi
    echo "packages missing: ${missing[*]}"
    if [[ $(id -u) != 0 ]]; then
        die "run as root, or: apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    if ! command -v apt-get >/dev/null; then
        die "no apt-get: install ${missing[*]} by hand"
    fi
    apt-get update || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        || die "apt-get install failed"
    pkg-config --exists libunwind || die "pkg-config cannot find libunwind after installing libunwind-dev"
}

# ct_configure DIR [meson options...]: set up DIR, or reconfigure it
ct_configure() {
    local dir=$1; shift
    if [[ -f $dir/build.ninja ]]; then
        meson setup --reconfigure "$dir" "$@"
    else
        rm -rf "$dir"
        meson setup "$dir" "$@"
    fi
}
