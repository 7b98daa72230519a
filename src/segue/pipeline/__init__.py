"""Inference: a model (generator, discriminator, sampler) and its folder, autoregressive
continuation, and continuing a MIDI file end to end."""
