using System.Diagnostics;
using System.Text.Json;
using CaptionSidecar.Overlay;
using CaptionSidecar.Relay;
using NATS.Client.Core;

namespace CaptionSidecar.Benchmarks.RelayLoad;

/// <summary>One update the publisher sent: its language, sequence, kind, final number (0 for a tentative), payload size and when.</summary>
internal readonly record struct Published(int Language, long Sequence, bool Final, int FinalNumber, int Bytes, long PublishedAt);

/// <summary>
/// Acts as the sidecar on NATS: a core publish of one <see cref="OverlayCaption"/> (JSON, as on <c>/ws/captions</c>) per
/// update to <see cref="CaptionSubjects.Subject"/> with the <c>Caption-Kind</c> header, for every language at every
/// tick. The mix of a speaking caption track: a tentative update every 100 ms (the tail grows word by word) and
/// every 20th tick (~2 s) a final, the line numbered ("[17] ...") so a missing or reordered final is visible in the
/// text as well as by its sequence. Sequences are microseconds since the Unix epoch, strictly increasing per
/// language, as the sidecar's. Every publish is recorded with its Stopwatch time (the generator shares the clock).
/// </summary>
internal sealed class CaptionPublisher(NatsConnection nats, string stream, IReadOnlyList<string> languages)
{
    private const int FinalEvery = 20;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private static readonly string[] Words =
        "so the next thing we are going to look at is how the relay takes every caption update from the server and sends the same bytes to all of the viewers who picked that language without waiting for any slow one"
        .Split(' ');

    private readonly List<Published> _published = new(capacity: 4096);
    private readonly long[] _lastSequence = new long[languages.Count];

    /// <summary>What was published, in order (read after <see cref="RunAsync"/> ended).</summary>
    public IReadOnlyList<Published> Published => _published;

    /// <summary>Publishes until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var subjects = languages.Select(l => CaptionSubjects.Subject(stream, l)).ToArray();
        var finals = new int[languages.Count];
        var previousLine = new string[languages.Count];
        Array.Fill(previousLine, string.Empty);
        using var timer = new PeriodicTimer(Tick);
        var tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                tick++;
                var inLine = tick % FinalEvery;
                for (var l = 0; l < languages.Count; l++)
                {
                    var final = inLine == 0;
                    var words = string.Join(' ', Words.Take(final ? Words.Length / 2 : Math.Max(1, inLine)));
                    OverlayCaptionLine[] lines;
                    if (final)
                    {
                        finals[l]++;
                        var line = $"[{finals[l]}] {words}.";
                        lines = [new(previousLine[l], string.Empty), new(line, string.Empty)];
                        previousLine[l] = line;
                    }
                    else
                    {
                        lines = [new(previousLine[l], string.Empty), new(string.Empty, words)];
                    }

                    var sequence = _lastSequence[l] = Math.Max(_lastSequence[l] + 1, (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10);
                    var update = new OverlayCaption(languages[l], sequence, lines, false, DateTimeOffset.UtcNow);
                    var payload = JsonSerializer.SerializeToUtf8Bytes(update, OverlayJsonContext.Default.OverlayCaption);
                    var headers = new NatsHeaders { [CaptionSubjects.KindHeader] = final ? CaptionUpdateKinds.Final : CaptionUpdateKinds.Tentative };
                    _published.Add(new Published(l, sequence, final, final ? finals[l] : 0, payload.Length, Stopwatch.GetTimestamp()));
                    await nats.PublishAsync(subjects[l], payload, headers, cancellationToken: cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }
}
