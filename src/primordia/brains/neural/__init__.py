"""Recurrent neural nets (NeuroGenesis): sensory, inter and action neurons with tanh
activations, evaluated once per tick for a whole population by a numba kernel."""
