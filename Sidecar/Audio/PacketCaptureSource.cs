using System.Threading.Channels;

namespace CaptionSidecar.Audio;

/// <summary>
/// An <see cref="IAudioSource"/> over a packet device (WASAPI): a dedicated thread runs <see cref="CaptureLoop"/>,
/// which queues mono float fragments in a bounded queue (drop-oldest, counted) that <see cref="ReadAsync"/> drains.
/// The capture thread never touches the network. The device is opened on that thread before <see cref="OpenAsync"/>
/// completes, so a missing device fails at start with its own message.
/// </summary>
internal sealed partial class PacketCaptureSource : IAudioSource
{
    private const int QueueFragments = 200; // fragments are 10 ms device periods: 2 s between the capture thread and the pipeline

    private readonly ICaptureDevice _device;
    private readonly Channel<float[]> _fragments;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _threadDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CaptureLoop _loop;
    private float[]? _current;
    private int _currentOffset;
    private long _dropped;

    private readonly TaskCompletionSource<CaptureFormat> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts the capture thread, which opens <paramref name="device"/>; <see cref="OpenAsync"/> waits for that.</summary>
    private PacketCaptureSource(ICaptureDevice device, ILogger logger, TimeProvider time)
    {
        _device = device;
        _logger = logger;
        _fragments = Channel.CreateBounded<float[]>(
            new BoundedChannelOptions(QueueFragments) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
        _loop = new CaptureLoop(device, _fragments.Writer, _stop.Token, time, logger);
        var thread = new Thread(Capture) { IsBackground = true, Name = "Audio device capture" };
        thread.Start();
    }

    /// <summary>
    /// Opens <paramref name="device"/> on a new capture thread and starts capturing; completes once the device is
    /// open, so a missing device fails at start with its own message. On failure the thread has left its capture
    /// scope (COM uninitialized) before the exception surfaces.
    /// </summary>
    /// <exception cref="IOException">The device is missing or refuses; the message says what to do.</exception>
    /// <exception cref="AudioFormatException">The device's format cannot be converted.</exception>
    public static async Task<PacketCaptureSource> OpenAsync(ICaptureDevice device, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var source = new PacketCaptureSource(device, logger, time);
        CaptureFormat format;
        try
        {
            format = await source._opened.Task.WaitAsync(cancellationToken);
        }
        catch
        {
            await source._stop.CancelAsync();
            await source._threadDone.Task;
            source._stop.Dispose();
            throw;
        }

        source.Format = new AudioFormat(format.SampleRate, 1);
        source.DeviceFormat = format;
        return source;
    }

    /// <summary>The capture thread: opens the device inside its capture scope, then runs the loop until stopped.</summary>
    private void Capture()
    {
        try
        {
            using (_device.EnterCaptureThread())
            {
                ICaptureStream stream;
                try
                {
                    stream = _device.Open(requiredSampleRate: null);
                }
                catch (Exception ex)
                {
                    _opened.TrySetException(ex);
                    return;
                }

                _opened.TrySetResult(stream.Format);
                _loop.Run(stream);
            }

            _fragments.Writer.TryComplete();
        }
        catch (Exception ex) when (_opened.TrySetException(ex))
        {
            // The capture thread could not even be prepared: OpenAsync throws it.
        }
        catch (Exception ex)
        {
            LogCaptureFailed(ex);
            _fragments.Writer.TryComplete(ex);
        }
        finally
        {
            _threadDone.TrySetResult();
        }
    }

    /// <summary>What the device delivers (before conversion to mono float).</summary>
    public CaptureFormat DeviceFormat { get; private set; } = null!;

    /// <summary>Fragments dropped because the pipeline did not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The capture loop's counters (discontinuities, silent packets, reopens).</summary>
    public CaptureLoop Loop => _loop;

    /// <inheritdoc/>
    public string Description => _device.Description;

    /// <inheritdoc/>
    public AudioFormat Format { get; private set; } = null!;

    /// <inheritdoc/>
    public bool IsLive => true;

    /// <inheritdoc/>
    public bool CanOutrunRealTime => false;

    /// <inheritdoc/>
    public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        while (_current is null || _currentOffset == _current.Length)
        {
            if (!await _fragments.Reader.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            _fragments.Reader.TryRead(out _current);
            _currentOffset = 0;
        }

        var count = Math.Min(buffer.Length, _current.Length - _currentOffset);
        _current.AsSpan(_currentOffset, count).CopyTo(buffer.Span);
        _currentOffset += count;
        return count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // The thread notices within one wait (20 ms), or at once while waiting to reopen, and closes the stream itself.
        await _threadDone.Task;
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Audio device capture stopped")]
    private partial void LogCaptureFailed(Exception ex);
}
