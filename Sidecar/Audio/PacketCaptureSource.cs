using System.Threading.Channels;

namespace CaptionSidecar.Audio;

/// <summary>
/// An <see cref="IAudioSource"/> over a packet device (WASAPI): a dedicated thread runs <see cref="CaptureLoop"/>,
/// which queues mono float fragments in a bounded queue (drop-oldest, counted) that <see cref="ReadAsync"/> drains.
/// The capture thread never touches the network. The device is opened on that thread before the constructor
/// returns, so a missing device fails at start with its own message.
/// </summary>
internal sealed partial class PacketCaptureSource : IAudioSource
{
    private const int QueueFragments = 200; // fragments are 10 ms device periods: 2 s between the capture thread and the pipeline

    private readonly ICaptureDevice _device;
    private readonly Channel<float[]> _fragments;
    private readonly ILogger _logger;
    private readonly ManualResetEventSlim _stop = new();
    private readonly TaskCompletionSource _threadDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CaptureLoop _loop;
    private float[]? _current;
    private int _currentOffset;
    private long _dropped;

    /// <summary>Opens <paramref name="device"/> on a new capture thread and starts capturing.</summary>
    /// <exception cref="IOException">The device is missing or refuses; the message says what to do.</exception>
    /// <exception cref="AudioFormatException">The device's format cannot be converted.</exception>
    public PacketCaptureSource(ICaptureDevice device, ILogger logger, TimeProvider time)
    {
        _device = device;
        _logger = logger;
        _fragments = Channel.CreateBounded<float[]>(
            new BoundedChannelOptions(QueueFragments) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
        _loop = new CaptureLoop(device, _fragments.Writer, () => _stop.IsSet, _stop.Wait, time, logger);

        var opened = new TaskCompletionSource<CaptureFormat>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using (device.EnterCaptureThread())
                {
                    ICaptureStream stream;
                    try
                    {
                        stream = device.Open(requiredSampleRate: null);
                    }
                    catch (Exception ex)
                    {
                        opened.TrySetException(ex);
                        return;
                    }

                    opened.TrySetResult(stream.Format);
                    _loop.Run(stream);
                }

                _fragments.Writer.TryComplete();
            }
            catch (Exception ex) when (opened.TrySetException(ex))
            {
                // The capture thread could not even be prepared: the constructor throws it.
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
        })
        { IsBackground = true, Name = "Audio device capture" };
        thread.Start();

        // A constructor, not async code: the caller opens the source synchronously, like PulseAudioCapture's, and a
        // failure to open surfaces here as the device's own exception.
        // On failure the thread has left its capture scope (COM uninitialized) before the constructor throws.
        CaptureFormat format;
        try
        {
            format = opened.Task.GetAwaiter().GetResult();
        }
        catch
        {
            _threadDone.Task.GetAwaiter().GetResult();
            throw;
        }

        Format = new AudioFormat(format.SampleRate, 1);
        DeviceFormat = format;
    }

    /// <summary>What the device delivers (before conversion to mono float).</summary>
    public CaptureFormat DeviceFormat { get; }

    /// <summary>Fragments dropped because the pipeline did not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The capture loop's counters (discontinuities, silent packets, reopens).</summary>
    public CaptureLoop Loop => _loop;

    /// <inheritdoc/>
    public string Description => _device.Description;

    /// <inheritdoc/>
    public AudioFormat Format { get; }

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
        _stop.Set();
        // The thread notices within one wait (20 ms), or at once while waiting to reopen, and closes the stream itself.
        await _threadDone.Task;
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Audio device capture stopped")]
    private partial void LogCaptureFailed(Exception ex);
}
