using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.Versioning;
using CaptionSidecar.Audio;
using CaptionSidecar.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Benchmarks;

/// <summary>
/// Capture-to-send latency of the audio path (<c>--audio-latency [chunks]</c>) on a real PulseAudio: a tone plays into
/// the caption_test null sink (<c>scripts/pulse-headless.sh start</c>) while <see cref="PulseAudioCapture"/> records its
/// monitor through <see cref="AudioPipeline"/> (downmix, 48 -> 24 kHz resampling, 20 ms chunks) and
/// <see cref="AudioFanOut"/> into one track's queue, read as a Realtime track reads it. For every chunk:
/// <list type="bullet">
/// <item>capture-to-send: from the capture read that returned the chunk's newest sample to the track reading the chunk;</item>
/// <item>processing: from the capture read that completed the chunk (the one that brought the resampler's look-ahead
/// past the chunk's end) to the track reading it: threads, queues, resampling and chunking only.</item>
/// </list>
/// </summary>
[SupportedOSPlatform("linux")]
internal static class AudioLatencyReport
{
    private const int Rate = 48_000;
    private const int WarmUpChunks = 50;

    public static async Task RunAsync(int chunks)
    {
        var folder = Directory.CreateTempSubdirectory("audio-latency-").FullName;
        var tone = Path.Combine(folder, "tone.wav");
        var seconds = (chunks / 50) + 10;
        await File.WriteAllBytesAsync(tone, ToneWav(seconds));
        using var play = Process.Start(new ProcessStartInfo("paplay", ["--device=caption_test", tone]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("paplay could not be started; install pulseaudio-utils.");

        var total = WarmUpChunks + chunks;
        var captureTimes = new long[(total * 2) + 1000];
        var captureEnds = new long[captureTimes.Length];
        var captures = 0;
        long captured = 0;
        var options = new AudioOptions { Input = "device:caption_test.monitor", ChunkMilliseconds = 20 };
        var capture = new PulseAudioCapture("caption_test.monitor", Rate, channels: 1, NullLogger<PulseAudioCapture>.Instance);
        capture.CaptureReadObserver = samples =>
        {
            var now = Stopwatch.GetTimestamp();
            captured += samples;
            if (captures < captureTimes.Length)
            {
                captureTimes[captures] = now;
                captureEnds[captures] = captured;
                Volatile.Write(ref captures, captures + 1);
            }
        };

        var chunkTimes = new long[total];
        var chunkEnds = new long[total];
        using var stop = new CancellationTokenSource();
        await using (capture)
        {
            var pipeline = new AudioPipeline(capture, options, NullLogger<AudioPipeline>.Instance, TimeProvider.System);
            var fanOut = new AudioFanOut(pipeline.Output, live: true, capacity: options.QueueCapacity);
            var track = fanOut.Subscribe("en");
            var pipelineRun = pipeline.RunAsync(stop.Token);
            var fanOutRun = fanOut.RunAsync(stop.Token);
            for (var i = 0; i < total; i++)
            {
                var chunk = await track.ReadAsync(stop.Token);
                chunkTimes[i] = Stopwatch.GetTimestamp();
                chunkEnds[i] = chunk.StartSample + chunk.SampleCount;
            }

            await stop.CancelAsync();
            await Task.WhenAll(pipelineRun, fanOutRun).ContinueWith(_ => { }, TaskScheduler.Default);
            Console.WriteLine($"dropped: pipeline {pipeline.Stats.ChunksDropped}, capture {capture.Dropped}, track {fanOut.DroppedFor("en")}");
        }

        play.Kill();
        Directory.Delete(folder, recursive: true);

        var lookAhead = new Resampler(Rate).Taps / 2;
        var reads = Volatile.Read(ref captures);
        var endToEnd = new List<double>();
        var processing = new List<double>();
        for (var i = WarmUpChunks; i < total; i++)
        {
            // Output sample n sits at input frame 2n; producing it needs input up to 2n + taps/2.
            var newest = (chunkEnds[i] - 1) * Rate / AudioChunk.SampleRate;
            var holding = FirstReadReaching(captureEnds, reads, newest + 1);
            var completing = FirstReadReaching(captureEnds, reads, newest + lookAhead + 1);
            if (holding < 0 || completing < 0)
            {
                continue;
            }

            endToEnd.Add(Stopwatch.GetElapsedTime(captureTimes[holding], chunkTimes[i]).TotalMilliseconds);
            processing.Add(Stopwatch.GetElapsedTime(captureTimes[completing], chunkTimes[i]).TotalMilliseconds);
        }

        Console.WriteLine($"chunks measured: {endToEnd.Count} (after {WarmUpChunks} warm-up), capture reads: {reads}, resampler look-ahead {lookAhead} frames");
        Report("capture-to-send (read holding the chunk's newest sample -> track read)", endToEnd);
        Report("processing (read completing the chunk -> track read)", processing);
    }

    private static int FirstReadReaching(long[] ends, int count, long frames)
    {
        var index = Array.BinarySearch(ends, 0, count, frames);
        index = index >= 0 ? index : ~index;
        return index < count ? index : -1;
    }

    private static void Report(string name, List<double> values)
    {
        values.Sort();
        double At(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
        Console.WriteLine($"{name}: median {At(0.5):F2} ms, p99 {At(0.99):F2} ms, max {values[^1]:F2} ms, min {values[0]:F2} ms");
    }

    private static byte[] ToneWav(int seconds)
    {
        var samples = Rate * seconds;
        var wav = new byte[44 + (samples * 2)];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), wav.Length - 8);
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), 1);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), Rate);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), Rate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(32), 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(34), 16);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), samples * 2);
        for (var i = 0; i < samples; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(44 + (2 * i)), (short)(0.3 * 32_767 * Math.Sin(2 * Math.PI * 440 * i / Rate)));
        }

        return wav;
    }
}
