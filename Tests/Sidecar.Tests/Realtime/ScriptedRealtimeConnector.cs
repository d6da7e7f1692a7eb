using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// A connector whose one connection is driven by the test: it pushes server events (any names, any order) and reads
/// what the session sent. For protocol cases the fake server does not produce (beta names, failed responses).
/// </summary>
internal sealed class ScriptedRealtimeConnector : IRealtimeConnector
{
    public ScriptedRealtimeConnection Connection { get; } = new();

    public Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken) =>
        Task.FromResult<IRealtimeConnection>(Connection);
}

/// <summary>One scripted connection: server events in, client events out.</summary>
internal sealed class ScriptedRealtimeConnection : IRealtimeConnection
{
    private readonly Channel<BinaryData> _incoming = Channel.CreateUnbounded<BinaryData>();
    private readonly Channel<JsonElement> _sent = Channel.CreateUnbounded<JsonElement>();
    private readonly ChangeSignal _changed;
    private int _appends;
    private volatile bool _closed;

    /// <param name="changed">Told of every event the session sends (may be shared by several connections).</param>
    public ScriptedRealtimeConnection(ChangeSignal? changed = null)
    {
        _changed = changed ?? new ChangeSignal();
    }

    /// <summary>How many <c>input_audio_buffer.append</c> events the session sent.</summary>
    public int AppendCount => Volatile.Read(ref _appends);

    /// <summary>True once the session closed the connection.</summary>
    public bool Closed => _closed;

    /// <summary>Waits until the session sent <paramref name="count"/> appends or more.</summary>
    public Task AppendsAsync(int count, CancellationToken cancellationToken) =>
        _changed.UntilAsync(() => AppendCount >= count, $"{count} appends were sent", cancellationToken);

    /// <summary>Sends a server event to the session.</summary>
    public void Push(object serverEvent) => _incoming.Writer.TryWrite(BinaryData.FromObjectAsJson(serverEvent));

    /// <summary>The next client event of <paramref name="type"/> the session sent (earlier events of other types are skipped).</summary>
    public async Task<JsonElement> NextSentAsync(string type, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (true)
        {
            var sent = await _sent.Reader.ReadAsync(timeout.Token);
            if (sent.GetProperty("type").GetString() == type)
            {
                return sent;
            }
        }
    }

    public Task SendAsync(BinaryData message, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(message.ToMemory());
        if (document.RootElement.GetProperty("type").GetString() == "input_audio_buffer.append")
        {
            Interlocked.Increment(ref _appends);
        }

        _sent.Writer.TryWrite(document.RootElement.Clone());
        _changed.Changed();
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<BinaryData> ReceiveAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var message in _incoming.Reader.ReadAllAsync(cancellationToken))
        {
            yield return message;
        }
    }

    public Task CloseAsync(CancellationToken cancellationToken)
    {
        _closed = true;
        _incoming.Writer.TryComplete();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _incoming.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
