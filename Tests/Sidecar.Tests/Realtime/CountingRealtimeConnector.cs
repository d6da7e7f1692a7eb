using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// Wraps a connector: counts the connections open at once (from a successful connect to their disposal) and can
/// refuse chosen connect attempts, as an unreachable endpoint would.
/// </summary>
internal sealed class CountingRealtimeConnector(IRealtimeConnector inner, params int[] refusedAttempts) : IRealtimeConnector
{
    private readonly Lock _gate = new();
    private int _attempts;
    private int _open;
    private int _mostOpen;

    /// <summary>Connections open now.</summary>
    public int Open
    {
        get
        {
            lock (_gate)
            {
                return _open;
            }
        }
    }

    /// <summary>The most connections that were open at the same moment.</summary>
    public int MostOpenAtOnce
    {
        get
        {
            lock (_gate)
            {
                return _mostOpen;
            }
        }
    }

    /// <summary>Connect attempts so far (refused ones included).</summary>
    public int Attempts
    {
        get
        {
            lock (_gate)
            {
                return _attempts;
            }
        }
    }

    public async Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken)
    {
        int attempt;
        lock (_gate)
        {
            attempt = ++_attempts;
        }

        if (refusedAttempts.Contains(attempt))
        {
            throw new RealtimeConnectException($"connect attempt {attempt} refused by the test");
        }

        var connection = await inner.ConnectAsync(kind, cancellationToken);
        lock (_gate)
        {
            _open++;
            _mostOpen = Math.Max(_mostOpen, _open);
        }

        return new Counted(connection, this);
    }

    private void Closed()
    {
        lock (_gate)
        {
            _open--;
        }
    }

    private sealed class Counted(IRealtimeConnection connection, CountingRealtimeConnector owner) : IRealtimeConnection
    {
        private int _disposed;

        public Task SendAsync(BinaryData message, CancellationToken cancellationToken) => connection.SendAsync(message, cancellationToken);

        public IAsyncEnumerable<BinaryData> ReceiveAsync(CancellationToken cancellationToken) => connection.ReceiveAsync(cancellationToken);

        public Task CloseAsync(CancellationToken cancellationToken) => connection.CloseAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await connection.DisposeAsync();
                owner.Closed();
            }
        }
    }
}
