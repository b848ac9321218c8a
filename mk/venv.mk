# The project's Python venv under the repo; every pip package goes here.
VENV_STAMP := $(VENV)/.stamp

.PHONY: venv
venv: $(VENV_STAMP)
$(VENV_STAMP): $(ROOT)/requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(ROOT)/requirements-dev.txt
	@touch $@
