using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Channels;
using CaptionSidecar.Retries;
using Polly;

namespace CaptionSidecar.Audio;

/// <summary>
/// Records from a PulseAudio source (also served by PipeWire's PulseAudio layer) through <c>libpulse-simple.so.0</c>.
/// <c>pa_simple_read</c> blocks, so it runs on its own thread, which copies each 20 ms fragment into a bounded queue
/// (drop-oldest, counted) that <see cref="ReadAsync"/> drains.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class PulseAudioCapture : IAudioSource
{
    private const int FragmentMilliseconds = 20;
    private const int QueueFragments = 100; // 2 s of audio between the capture thread and the pipeline

    private readonly Channel<float[]> _fragments;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _threadDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _fragmentBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly ResiliencePipeline _reopen;
    private nint _handle;
    private float[]? _current;
    private int _currentOffset;
    private long _dropped;

    /// <summary>Connects to PulseAudio and starts recording <paramref name="device"/> (null: the default source).</summary>
    /// <exception cref="IOException">PulseAudio is missing or refuses the stream; the message says what to do.</exception>
    public PulseAudioCapture(string? device, int sampleRate, int channels, ILogger<PulseAudioCapture> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channels, 2);
        _logger = logger;
        Device = device;
        Format = new AudioFormat(sampleRate, channels);
        _fragmentBytes = sampleRate * FragmentMilliseconds / 1000 * channels * 2;
        _handle = Open(device, sampleRate, channels, _fragmentBytes);
        _reopen = Backoff.Forever(
            BackoffSettings.Device,
            TimeProvider.System,
            attempt => LogReopenFailed(
                attempt.IsWorthAWarning ? LogLevel.Warning : LogLevel.Debug,
                Description,
                attempt.Attempt,
                (int)attempt.Delay.TotalMilliseconds,
                attempt.Failure?.Message ?? "unknown"),
            ex => ex is IOException);
        _fragments = Channel.CreateBounded<float[]>(
            new BoundedChannelOptions(QueueFragments) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
        _thread = new Thread(CaptureLoop) { IsBackground = true, Name = "PulseAudio capture" };
        _thread.Start();
    }

    /// <summary>The PulseAudio source name, or null for the default source.</summary>
    public string? Device { get; }

    /// <summary>Fragments dropped because the pipeline did not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Called on the capture thread the moment a read returns, with the samples read: the start of the audio path for
    /// latency measurements (Tests/Benchmarks, AudioLatencyReport). Null in the product.
    /// </summary>
    internal Action<int>? CaptureReadObserver { get; set; }

    /// <inheritdoc/>
    public string Description => $"PulseAudio {(Device is null ? "default source" : $"source '{Device}'")}";

    /// <inheritdoc/>
    public AudioFormat Format { get; }

    /// <inheritdoc/>
    public bool IsLive => true;

    /// <inheritdoc/>
    public bool CanOutrunRealTime => false;

    /// <inheritdoc/>
    public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        if (_current is null || _currentOffset == _current.Length)
        {
            if (!await _fragments.Reader.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            _fragments.Reader.TryRead(out _current);
            _currentOffset = 0;
        }

        var channels = Format.Channels;
        var count = Math.Min(buffer.Length / channels * channels, _current!.Length - _currentOffset);
        _current.AsSpan(_currentOffset, count).CopyTo(buffer.Span);
        _currentOffset += count;
        return count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // The thread notices within one fragment (20 ms), or at once while waiting to reopen, and frees the stream itself.
        await _threadDone.Task;
        _stop.Dispose();
    }

    /// <summary>Stops a capture nobody will read (opened after its caller stopped waiting): the thread frees the stream itself.</summary>
    internal void Abandon() => _stop.Cancel();

    /// <summary>Connects a record stream; throws <see cref="IOException"/> with a message that says what to do.</summary>
    private static nint Open(string? device, int sampleRate, int channels, int fragmentBytes)
    {
        var spec = new SampleSpec { Format = SampleFormatS16Le, Rate = (uint)sampleRate, Channels = (byte)channels };
        // Without a small fragsize the server hands out ~2 s fragments and the first 1-1.5 s of a recording is lost.
        var attributes = new BufferAttributes
        {
            MaxLength = uint.MaxValue,
            TLength = uint.MaxValue,
            PreBuf = uint.MaxValue,
            MinReq = uint.MaxValue,
            FragSize = (uint)fragmentBytes,
        };

        int error;
        nint handle;
        try
        {
            handle = Native.pa_simple_new(null, "CaptionSidecar", StreamDirectionRecord, device, "caption capture", ref spec, 0, ref attributes, out error);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new IOException(MissingMessage("libpulse-simple.so.0 cannot be loaded"), ex);
        }

        if (handle == 0)
        {
            var reason = ErrorText(error);
            throw new IOException(error switch
            {
                ErrorNoEntity => $"PulseAudio has no capture source named '{device}' ({reason}): list them with 'CaptionSidecar devices' or 'pactl list short sources', or use --input default.",
                ErrorConnectionRefused or ErrorInvalidServer or ErrorAccess => MissingMessage(reason),
                _ => $"PulseAudio refused to record from {(device is null ? "the default source" : $"'{device}'")}: {reason}.",
            });
        }

        return handle;
    }

    /// <summary>
    /// Reads fragments until disposed. A failed read (device unplugged, sound server restarted) is not the end: the
    /// stream is reopened with the product's backoff (<see cref="BackoffSettings.Device"/>: jittered, 250 ms doubling
    /// to 5 s) and capture resumes by itself; the time in between is simply missing audio, so the pipeline's chunk
    /// numbering carries on.
    /// </summary>
    private void CaptureLoop()
    {
        var bytes = new byte[_fragmentBytes];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (_handle == 0)
                {
                    var attempts = 0;
                    try
                    {
                        // A dedicated thread, not async code: Polly's waits block it, and disposing cancels them at once.
                        _handle = _reopen.Execute(
                            _ =>
                            {
                                attempts++;
                                return Open(Device, Format.SampleRate, Format.Channels, _fragmentBytes);
                            },
                            _stop.Token);
                    }
                    catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                    {
                        break;
                    }

                    LogReopened(Description, attempts);
                }

                if (Native.pa_simple_read(_handle, bytes, (nuint)bytes.Length, out var error) < 0)
                {
                    LogDeviceLost(Description, ErrorText(error));
                    Native.pa_simple_free(_handle);
                    _handle = 0;
                    continue;
                }

                CaptureReadObserver?.Invoke(bytes.Length / 2);
                var samples = new float[bytes.Length / 2];
                for (var i = 0; i < samples.Length; i++)
                {
                    samples[i] = (short)(bytes[2 * i] | (bytes[(2 * i) + 1] << 8)) * (1f / 32768f);
                }

                _fragments.Writer.TryWrite(samples);
            }

            _fragments.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            LogCaptureFailed(ex);
            _fragments.Writer.TryComplete(ex);
        }
        finally
        {
            if (_handle != 0)
            {
                Native.pa_simple_free(_handle);
                _handle = 0;
            }

            _threadDone.TrySetResult();
        }
    }

    private static string MissingMessage(string reason) =>
        $"PulseAudio is not running or libpulse-simple.so.0 is missing ({reason}): install pulseaudio (or pipewire-pulse) and start it, or use --input cmd:\"ffmpeg ...\" or --input file:PATH.";

    private static string ErrorText(int error)
    {
        try
        {
            return Marshal.PtrToStringUTF8(Native.pa_strerror(error)) ?? $"error {error}";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"error {error}";
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "PulseAudio capture stopped")]
    private partial void LogCaptureFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audio device lost: reading from {Source} failed ({Reason}); reopening it")]
    private partial void LogDeviceLost(string source, string reason);

    [LoggerMessage(Message = "Reopening {Source} failed (attempt {Attempt}), retry in {DelayMs} ms: {Reason}")]
    private partial void LogReopenFailed(LogLevel level, string source, int attempt, int delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audio device reopened: {Source} after {Attempt} attempt(s); capture resumes")]
    private partial void LogReopened(string source, int attempt);

    private const int SampleFormatS16Le = 3; // PA_SAMPLE_S16LE
    private const int StreamDirectionRecord = 2; // PA_STREAM_RECORD
    private const int ErrorAccess = 1; // PA_ERR_ACCESS
    private const int ErrorConnectionRefused = 6; // PA_ERR_CONNECTIONREFUSED
    private const int ErrorNoEntity = 5; // PA_ERR_NOENTITY
    private const int ErrorInvalidServer = 13; // PA_ERR_INVALIDSERVER

    [StructLayout(LayoutKind.Sequential)]
    private struct SampleSpec
    {
        public int Format;
        public uint Rate;
        public byte Channels;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct BufferAttributes
    {
        public uint MaxLength;
        public uint TLength;
        public uint PreBuf;
        public uint MinReq;
        public uint FragSize;
    }

    private static partial class Native
    {
        private const string Simple = "libpulse-simple.so.0";
        private const string Pulse = "libpulse.so.0";

        [LibraryImport(Simple, StringMarshalling = StringMarshalling.Utf8)]
        public static partial nint pa_simple_new(string? server, string name, int direction, string? device, string streamName, ref SampleSpec spec, nint channelMap, ref BufferAttributes attributes, out int error);

        [LibraryImport(Simple)]
        public static partial int pa_simple_read(nint handle, [Out] byte[] data, nuint bytes, out int error);

        [LibraryImport(Simple)]
        public static partial void pa_simple_free(nint handle);

        [LibraryImport(Pulse)]
        public static partial nint pa_strerror(int error);
    }
}
