using System.Threading.Channels;
using CaptionSidecar.Retries;
using Polly;

namespace CaptionSidecar.Audio;

/// <summary>
/// The capture thread's state machine for a packet device (<see cref="ICaptureDevice"/>): wait for the device's
/// signal, drain every ready packet (silent packets as zeros, discontinuities counted), convert to mono float and
/// queue it; a lost device (any <see cref="IOException"/>) is reopened at once and then, while that fails, with the product's backoff
/// (<see cref="BackoffSettings.Device"/>: jittered, 250 ms doubling to 5 s) like <see cref="PulseAudioCapture"/>; a changed default input (<see cref="CaptureDeviceChangedException"/>) is reopened the same way, logged as a choice rather than a loss. Platform-neutral; the Windows part only supplies the device.
/// </summary>
internal sealed partial class CaptureLoop
{
    /// <summary>
    /// How long one wait for the device's signal lasts before the stream is polled anyway: Windows before 10 1703
    /// never signals an event-driven loopback stream, and polling every 20 ms stays well inside the 200 ms buffer.
    /// </summary>
    internal static readonly TimeSpan WaitTimeout = TimeSpan.FromMilliseconds(20);

    /// <summary>A loopback device idle this long is filled with silence, so the timeline and speech detection keep moving.</summary>
    internal static readonly TimeSpan SilenceAfter = TimeSpan.FromMilliseconds(100);

    /// <summary>A microphone that delivers nothing this long is treated as lost (a running stream always delivers).</summary>
    internal static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(5);

    private readonly ICaptureDevice _device;
    private readonly ChannelWriter<float[]> _output;
    private readonly CancellationToken _stopping;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _reopen;
    private float[] _interleaved = [];
    private long _discontinuities;
    private long _silentPackets;
    private long _reopens;
    private long _silenceFilledFrames;

    /// <summary>Creates the loop.</summary>
    /// <param name="device">The device to read.</param>
    /// <param name="output">Where mono float fragments go (a bounded, drop-oldest queue).</param>
    /// <param name="stopping">Cancelled once the loop must end; ends a backoff wait at once.</param>
    /// <param name="time">The clock for idle and stall detection and for the backoff waits (which block this capture thread).</param>
    /// <param name="logger">Where device loss and reopening are logged.</param>
    public CaptureLoop(ICaptureDevice device, ChannelWriter<float[]> output, CancellationToken stopping, TimeProvider time, ILogger logger)
    {
        _device = device;
        _output = output;
        _stopping = stopping;
        _time = time;
        _logger = logger;
        _reopen = Backoff.Forever(
            BackoffSettings.Device,
            time,
            attempt => LogReopenFailed(
                attempt.IsWorthAWarning ? LogLevel.Warning : LogLevel.Debug,
                _device.Description,
                attempt.Attempt,
                (int)attempt.Delay.TotalMilliseconds,
                attempt.Failure?.Message ?? "unknown"),
            ex => ex is IOException or AudioFormatException);
    }

    /// <summary>Packets that followed a gap in the device's audio.</summary>
    public long Discontinuities => Interlocked.Read(ref _discontinuities);

    /// <summary>Packets the device flagged silent (delivered as zeros).</summary>
    public long SilentPackets => Interlocked.Read(ref _silentPackets);

    /// <summary>Times the device was reopened after being lost.</summary>
    public long Reopens => Interlocked.Read(ref _reopens);

    /// <summary>Frames of silence added while a loopback device delivered nothing.</summary>
    public long SilenceFilledFrames => Interlocked.Read(ref _silenceFilledFrames);

    /// <summary>
    /// Reads <paramref name="stream"/> (opened by the caller on this thread) until <c>stopping</c>, reopening the
    /// device when it is lost. Disposes whichever stream is open at the end.
    /// </summary>
    public void Run(ICaptureStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var rate = stream.Format.SampleRate;
        ICaptureStream? current = stream;
        var mark = _time.GetTimestamp(); // the end of the audio delivered so far, on the local clock
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                if (current is null)
                {
                    current = Reopen(rate);
                    mark = _time.GetTimestamp();
                    continue;
                }

                try
                {
                    // Whether or not the wait was signalled: a stream whose event keeps firing with no packet behind it
                    // (Wine's, once its PulseAudio source is unloaded) has delivered nothing all the same.
                    current.WaitForData(WaitTimeout);
                    if (Drain(current) > 0)
                    {
                        mark = _time.GetTimestamp();
                    }
                    else
                    {
                        var idle = _time.GetElapsedTime(mark);
                        if (_device.IsLoopback && idle >= SilenceAfter)
                        {
                            var frames = (int)(idle.Ticks * rate / TimeSpan.TicksPerSecond);
                            _output.TryWrite(new float[frames]);
                            Interlocked.Add(ref _silenceFilledFrames, frames);
                            mark = _time.GetTimestamp();
                        }
                        else if (!_device.IsLoopback && idle >= StallTimeout)
                        {
                            throw new IOException($"the device delivered no audio for {idle.TotalSeconds:F0} s");
                        }
                    }
                }
                catch (IOException ex)
                {
                    if (ex is CaptureDeviceChangedException changed)
                    {
                        // Not a loss: the streamer chose another default input. The reopen's first attempt runs at once.
                        LogDefaultInputChanged(changed.NewDevice);
                    }
                    else
                    {
                        LogDeviceLost(_device.Description, ex.Message);
                    }

                    current.Dispose();
                    current = null;
                }
            }
        }
        finally
        {
            current?.Dispose();
        }
    }

    /// <summary>Drains the ready packets into the output; returns the frames delivered.</summary>
    private int Drain(ICaptureStream stream)
    {
        var format = stream.Format;
        var delivered = 0;
        while (stream.NextPacketFrames() > 0)
        {
            var packet = stream.GetPacket();
            if (packet.Frames == 0)
            {
                break;
            }

            var mono = new float[packet.Frames];
            try
            {
                if ((packet.Flags & CapturePacketFlags.DataDiscontinuity) != 0)
                {
                    var count = Interlocked.Increment(ref _discontinuities);
                    LogDiscontinuity(_device.Description, count);
                }

                if ((packet.Flags & CapturePacketFlags.Silent) != 0)
                {
                    Interlocked.Increment(ref _silentPackets); // the new array is already zeros
                }
                else
                {
                    var samples = packet.Frames * format.Channels;
                    if (_interleaved.Length < samples)
                    {
                        _interleaved = new float[samples];
                    }

                    var converted = SampleConverter.ToFloat(packet.Data[..(packet.Frames * format.BytesPerFrame)], format, _interleaved);
                    Downmix.ToMono(_interleaved.AsSpan(0, converted), format.Channels, mono);
                }
            }
            finally
            {
                stream.ReleasePacket(packet.Frames);
            }

            _output.TryWrite(mono);
            delivered += packet.Frames;
        }

        return delivered;
    }

    /// <summary>Opens the device again, waiting with backoff between attempts; null when stopping meanwhile.</summary>
    private ICaptureStream? Reopen(int rate)
    {
        var attempts = 0;
        try
        {
            // Polly runs synchronously here: its waits block this dedicated capture thread, never a pool thread.
            var stream = _reopen.Execute(
                _ =>
                {
                    attempts++;
                    var opened = _device.Open(rate);
                    if (opened.Format.SampleRate != rate)
                    {
                        opened.Dispose();
                        throw new IOException($"the device now runs at {opened.Format.SampleRate} Hz instead of {rate} Hz");
                    }

                    return opened;
                },
                _stopping);
            Interlocked.Increment(ref _reopens);
            LogReopened(_device.Description, attempts);
            return stream;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audio device lost: {Source} failed ({Reason}); reopening it")]
    private partial void LogDeviceLost(string source, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Windows' default input changed to {Device}; capturing it")]
    private partial void LogDefaultInputChanged(string device);

    [LoggerMessage(Message = "Reopening {Source} failed (attempt {Attempt}), retry in {DelayMs} ms: {Reason}")]
    private partial void LogReopenFailed(LogLevel level, string source, int attempt, int delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audio device reopened: {Source} after {Attempt} attempt(s); capture resumes")]
    private partial void LogReopened(string source, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Source} reported a gap in its audio (discontinuity {Count})")]
    private partial void LogDiscontinuity(string source, long count);
}
