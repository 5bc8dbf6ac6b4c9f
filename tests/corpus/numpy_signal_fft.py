"""Signal processing: a noisy multi-tone signal analysed with numpy's FFT, filtered with
a scipy.signal Butterworth filter designed before the move and applied after it; peaks
and a Welch spectrum are reported."""

import numpy as np
from scipy import signal

import teleporter

fs = 1000.0
t = np.arange(0, 2.0, 1 / fs)
rng = np.random.default_rng(8)
clean = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 120 * t) + 0.2 * np.sin(2 * np.pi * 300 * t)
noisy = clean + 0.8 * rng.normal(size=t.size)
spectrum = np.fft.rfft(noisy * np.hanning(t.size))
freqs = np.fft.rfftfreq(t.size, 1 / fs)
mag = np.abs(spectrum)
top = freqs[np.argsort(mag)[-3:]]
print("strongest bins (Hz):", sorted(top.tolist()))
sos = signal.butter(6, [30, 150], btype="bandpass", fs=fs, output="sos")
zi = signal.sosfilt_zi(sos) * noisy[0]
print("filter sections:", sos.shape)

teleporter.teleport()

filtered = signal.sosfiltfilt(sos, noisy)
snr_before = 10 * np.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))
target = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 120 * t)
snr_after = 10 * np.log10(np.sum(target**2) / np.sum((filtered - target) ** 2))
print("snr before %.4f dB, after %.4f dB" % (snr_before, snr_after))
f_w, pxx = signal.welch(filtered, fs=fs, nperseg=256)
peaks, _ = signal.find_peaks(pxx, height=pxx.max() * 0.05)
print("welch peaks (Hz):", f_w[peaks].tolist())
streamed, _ = signal.sosfilt(sos, noisy, zi=zi)
print("streamed energy %.6f" % float(np.sum(streamed**2)))
corr = signal.correlate(filtered, target, mode="full")
print("best lag:", int(np.argmax(corr)) - (t.size - 1))
print("inverse fft roundtrip:", np.allclose(np.fft.irfft(np.fft.rfft(noisy), n=t.size), noisy))
