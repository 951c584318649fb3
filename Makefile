# edge-attn: `make demo` and `make test` create their environments when missing.
PY      ?= python3
VENV    := .venv
VENV_RT := .venv-rt
BIN     := $(VENV)/bin
BIN_RT  := $(VENV_RT)/bin
RUNS    := build/demo
FIXTURES := build/fixtures
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: demo test test-main test-runtime lint bench bench-quick bench-real bench-user demo-model \
	arm64-check clean

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[train,dev]'
	touch $@

# Runtime-only environment: no TensorFlow, numpy<2 and tflite-runtime (the design card's
# backend), to prove the runtime works with only its own dependencies.
$(VENV_RT)/.installed: pyproject.toml
	$(PY) -m venv $(VENV_RT)
	$(BIN_RT)/pip install -q --upgrade pip
	$(BIN_RT)/pip install -q 'numpy<2' 'click>=8.1' 'tflite-runtime==2.14.0' 'pytest>=8' 'matplotlib>=3.7' \
	  'sentencepiece>=0.2'
	$(BIN_RT)/pip install -q --no-deps -e .
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .

test: test-main test-runtime

test-main: $(VENV)/.installed lint
	EDGE_ATTN_FIXTURES=$(FIXTURES) $(BIN)/pytest -q

test-runtime: $(VENV_RT)/.installed test-main
	EDGE_ATTN_FIXTURES=$(FIXTURES) EDGE_ATTN_BACKEND=tflite-runtime \
	  $(BIN_RT)/pytest -q -p no:cacheprovider tests/test_runtime_*.py

demo: $(VENV)/.installed
	$(BIN)/python -m edge_attn.demo --out $(RUNS)

demo-model: $(VENV)/.installed
	$(BIN)/edge-attn train seq2seq --task dates --out build/demo-model/ckpt --epochs 12 --force
	$(BIN)/edge-attn export build/demo-model/ckpt -o runtime/models/dates-int8.eatt \
	  --quantize int8 --force

bench: $(VENV)/.installed $(VENV_RT)/.installed
	$(BIN)/python benchmarks/run.py --out build/bench

bench-quick: $(VENV)/.installed $(VENV_RT)/.installed
	$(BIN)/python benchmarks/run.py --quick --out build/bench-quick

# Real-data models (../shared/data/eng-fra.tsv): trains the real translator once (about an
# hour on 2 cores, cached in build/bench), then quality and speed per mode and backend.
bench-real: $(VENV)/.installed $(VENV_RT)/.installed
	$(BIN)/python benchmarks/real.py --out build/bench

# Issue 12: the user's own Keras models (four styles) trained on built-in tasks, every mode
# exported with the validation gate, agreement with Keras per style and mode (~7 min).
bench-user: $(VENV)/.installed
	$(BIN)/python benchmarks/user_models.py --out build/bench

arm64-check: $(VENV)/.installed
	bash benchmarks/arm64/check.sh

clean:
	rm -rf build $(VENV) $(VENV_RT)
