namespace CaptionSidecar.Benchmarks.FeedLoad;

/// <summary>What one feed client received: each update's sequence and its Stopwatch receipt time, in arrival order.</summary>
public abstract class FeedReceipts
{
    private long[] _sequences = new long[64];
    private long[] _receivedAt = new long[64];

    /// <summary>Updates recorded.</summary>
    public int Count { get; private set; }

    /// <summary>The sequences received, in order (strictly increasing).</summary>
    public ReadOnlySpan<long> Sequences => _sequences.AsSpan(0, Count);

    /// <summary>The <see cref="System.Diagnostics.Stopwatch"/> timestamp of each receipt, matching <see cref="Sequences"/>.</summary>
    public ReadOnlySpan<long> ReceivedAt => _receivedAt.AsSpan(0, Count);

    /// <summary>Frames whose sequence was not above the previous one (not recorded).</summary>
    public long OutOfOrder { get; protected set; }

    /// <summary>Why the server ended this client's connection during the run; null while it is connected.</summary>
    public string? Dropped { get; protected set; }

    /// <summary>Records one receipt.</summary>
    protected void Record(long sequence, long receivedAt)
    {
        if (Count == _sequences.Length)
        {
            Array.Resize(ref _sequences, Count * 2);
            Array.Resize(ref _receivedAt, Count * 2);
        }

        _sequences[Count] = sequence;
        _receivedAt[Count] = receivedAt;
        Count++;
    }
}
