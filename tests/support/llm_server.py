"""A real OpenAI-compatible model server for the tests: llama.cpp's own server
from the prebuilt PyPI wheel `xllamacpp` (no compiling).

    python3 tests/support/llm_server.py MODEL.gguf PORT

serves /v1/chat/completions (streaming and `response_format` json_schema),
/v1/models and /health on 127.0.0.1:PORT until killed, with LLAMA_THREADS
threads (default 1: the tests run beside other work on two cores).
"""

import os
import sys
import time

import xllamacpp

params = xllamacpp.CommonParams()
params.model.path = sys.argv[1]
params.port = int(sys.argv[2])
params.hostnames = ["127.0.0.1"]
params.use_jinja = True
params.cpuparams.n_threads = int(os.environ.get("LLAMA_THREADS", "1"))
params.cpuparams_batch.n_threads = params.cpuparams.n_threads
server = xllamacpp.Server(params)
while True:
    time.sleep(3600)
