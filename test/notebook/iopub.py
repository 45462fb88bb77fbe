"""Runs cells on a kernel and prints its iopub messages as JSON lines (msg_type and content).
Usage: python3 iopub.py KERNEL_NAME < cells.json (a JSON list of code strings); each line has the cell index. Used by notebooks.test.ts
to see the progress line's display_data / update_display_data messages, which nbconvert merges away."""
import json, sys
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name=sys.argv[1])
try:
    for cell, code in enumerate(json.load(sys.stdin)):
        msg_id = kc.execute(code)
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            print(json.dumps({"cell": cell, "type": msg["msg_type"], "content": msg["content"]}), flush=True)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
