using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>An in-memory source: hands out its samples in pieces, then ends or fails.</summary>
internal sealed class FakeAudioSource(float[] samples, AudioFormat format, bool isLive = false, bool canOutrunRealTime = true, Exception? failAtEnd = null)
    : IAudioSource
{
    private int _position;

    public string Description => "fake source";

    public AudioFormat Format => format;

    public bool IsLive => isLive;

    public bool CanOutrunRealTime => canOutrunRealTime;

    public bool Disposed { get; private set; }

    public ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var count = Math.Min(buffer.Length / format.Channels * format.Channels, samples.Length - _position);
        if (count == 0 && failAtEnd is not null)
        {
            throw failAtEnd;
        }

        samples.AsSpan(_position, count).CopyTo(buffer.Span);
        _position += count;
        return ValueTask.FromResult(count);
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
