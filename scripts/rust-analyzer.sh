#!/usr/bin/env bash
# Write rust-project.json for the module.  `make M=... rust-analyzer` fails
# with an O= kernel build in 6.12, so call the kernel's generator directly;
# it only finds crate roots that sit beside the Kbuild naming them, so add
# ours (src/seqsplice_main.rs, named by the top-level Kbuild) afterwards.
set -euo pipefail
. "$(dirname "$0")/env.sh"
KDIR=${KDIR:-$(kernel_dir)}
out=$SEQSPLICE_TOP/rust-project.json
python3 "$KDIR/source/scripts/generate_rust_analyzer.py" --cfgs='core=--cfg no_fp_fmt_parse' \
	2024 "$KDIR/source" "$KDIR" /usr /usr/src/rustc-1.96.0/library "$SEQSPLICE_TOP" >"$out"
python3 - "$out" "$SEQSPLICE_TOP/src/seqsplice_main.rs" <<'PY'
import json, sys
path, root = sys.argv[1], sys.argv[2]
p = json.load(open(path))
names = [c["display_name"] for c in p["crates"]]
kernel = p["crates"][names.index("kernel")]
p["crates"].append({
    "display_name": "seqsplice_main",
    "root_module": root,
    "is_workspace_member": True,
    "deps": [{"crate": names.index("core"), "name": "core"},
             {"crate": names.index("kernel"), "name": "kernel"}],
    "cfg": kernel.get("cfg", []),
    "edition": "2021",
    "env": kernel.get("env", {}),
})
json.dump(p, open(path, "w"), sort_keys=True, indent=4)
PY
echo "rust-analyzer: wrote ${out#"$SEQSPLICE_TOP"/}"
