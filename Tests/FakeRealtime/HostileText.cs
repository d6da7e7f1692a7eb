using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>Text a hostile server sends besides the script's (faults A1, A3 and A7 of issue 10).</summary>
public enum HostileTextMode
{
    /// <summary>Only the script's text (the default).</summary>
    None,

    /// <summary>
    /// After the first real turn's text, transcription deltas for fresh item ids that are never committed
    /// (<c>fl_1</c>, <c>fl_2</c>, ...), about 10,000 a second for as long as the session lasts (slower only when the
    /// client reads slower); real turns are transcribed meanwhile as usual.
    /// </summary>
    DeltaFlood,

    /// <summary>Every turn gets one extra 5 MB delta and a 5 MB <c>completed</c> (its script line, then 5 MB of words).</summary>
    HugeText,

    /// <summary>After each real turn's text, a <c>completed</c> and a delta for item ids the session never committed.</summary>
    UnknownItems,
}

/// <summary>
/// The hostile text of one connection (see <see cref="HostileTextMode"/>). The connection calls it while it
/// transcribes a turn; it sends through the connection's outbound queue, so its frames never interleave with others.
/// </summary>
internal sealed class HostileText(HostileTextMode mode, Func<JsonObject, Task> send, TimeProvider time, ILogger logger, string sessionId)
{
    /// <summary>Characters of the huge delta and of the huge part of a completion.</summary>
    public const int HugeCharacters = 5 * 1024 * 1024;

    /// <summary>Item ids of the text sent for items never committed start with this.</summary>
    public const string UnknownItemPrefix = "ghost_";

    /// <summary>Words of the text sent for items never committed (a test checks they reach no output).</summary>
    public const string UnknownItemText = "Ghost words from nowhere.";

    private const int FloodPerTick = 100;
    private static readonly TimeSpan FloodTick = TimeSpan.FromMilliseconds(10);
    private static readonly Lazy<string> Huge = new(() => new StringBuilder(HugeCharacters + 8).Insert(0, "blah ", HugeCharacters / 5).ToString());

    private Task? _flood;
    private int _unknown;

    /// <summary>The deltas and the completed transcript to send for a turn whose script line is <paramref name="text"/>.</summary>
    public (IReadOnlyList<string> Deltas, string Completed) Transcription(string text, IReadOnlyList<string> words) => mode switch
    {
        HostileTextMode.HugeText => ([.. words, " " + Huge.Value], text + " " + Huge.Value),
        _ => (words, text),
    };

    /// <summary>A real turn's completed text was sent: the flood starts, or text for unknown items follows.</summary>
    public async Task TurnCompletedAsync(long audioMs, CancellationToken cancellationToken)
    {
        switch (mode)
        {
            case HostileTextMode.DeltaFlood when _flood is null:
                Log.Fault(logger, sessionId, "flood of deltas for items never committed");
                _flood = FloodAsync(cancellationToken);
                break;
            case HostileTextMode.UnknownItems:
                var n = ++_unknown;
                var inv = CultureInfo.InvariantCulture;
                await send(ServerEvents.TranscriptionCompleted(UnknownItemPrefix + n.ToString(inv), UnknownItemText, audioMs));
                await send(ServerEvents.TranscriptionDelta(UnknownItemPrefix + "d" + n.ToString(inv), UnknownItemText));
                break;
        }
    }

    /// <summary>Waits for the flood to end (it ends with the session).</summary>
    public Task StoppedAsync() => _flood ?? Task.CompletedTask;

    private async Task FloodAsync(CancellationToken cancellationToken)
    {
        long sent = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Task last = Task.CompletedTask;
                for (var i = 0; i < FloodPerTick; i++)
                {
                    last = send(ServerEvents.TranscriptionDelta($"fl_{++sent}", " flood"));
                }

                // Written before the next batch: the flood follows the client's reading instead of overflowing the queue.
                await last.WaitAsync(cancellationToken);
                await Task.Delay(FloodTick, time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            Log.TranscriptionCrashed(logger, ex, sessionId, $"fl_{sent}");
        }
    }
}
