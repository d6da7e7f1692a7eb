using System.Threading.Channels;
using CaptionSidecar.Audio;

namespace CaptionSidecar.Realtime;

/// <summary>
/// One session of a track on its own connection, running from the moment it is opened (so its handshake can happen
/// while an older session still hears the audio) until it ends. Disposing waits for that end and releases the
/// connection; <see cref="StopAsync"/> ends it first.
/// </summary>
internal sealed class RealtimeSessionRun : IAsyncDisposable
{
    private readonly IRealtimeConnection _connection;
    private readonly CancellationTokenSource _stop;
    private int _disposed;

    public RealtimeSessionRun(
        int number, IRealtimeConnection connection, RealtimeSession session, ChannelReader<AudioChunk> audio, CancellationToken cancellationToken)
    {
        Number = number;
        _connection = connection;
        Session = session;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Run = session.RunAsync(audio, _stop.Token);
    }

    /// <summary>The track's count of sessions opened so far, this one included.</summary>
    public int Number { get; }

    public RealtimeSession Session { get; }

    /// <summary>The session's run, started at construction.</summary>
    public Task<RealtimeSessionOutcome> Run { get; }

    /// <summary>True when the handshake is done and the session still runs: it can take over the audio.</summary>
    public bool CanTakeOver => Session.Ready.IsCompletedSuccessfully && !Run.IsCompleted;

    /// <summary>Ends the session at once (it closes its connection), then releases it.</summary>
    public async ValueTask StopAsync()
    {
        await _stop.CancelAsync();
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // How the run ended was handled by whoever awaited it (or does not matter: a session given up on).
        await ((Task)Run).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _connection.DisposeAsync();
        _stop.Dispose();
    }
}
