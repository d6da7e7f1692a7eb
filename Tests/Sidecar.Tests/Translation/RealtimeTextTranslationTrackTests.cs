using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Costs;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using CaptionSidecar.Translation;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Translation;

/// <summary>The Realtime text translation track against the protocol-exact fake server, in process.</summary>
public sealed class RealtimeTextTranslationTrackTests : IAsyncLifetime
{
    private static readonly string[] English = ["First line of the stream.", "Second line right here.", "A third one.", "And a fourth.", "Fifth and last."];
    private static readonly string[] Spanish = ["Primera línea del directo.", "Segunda línea aquí mismo.", "Una tercera.", "Y una cuarta.", "Quinta y última."];
    private static readonly string[] French = ["Première ligne du live.", "Deuxième ligne ici même.", "Une troisième.", "Et une quatrième.", "Cinquième et dernière."];
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await FakeRealtimeServer.StartAsync(
        new FakeRealtimeOptions
        {
            Script = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish, ["fr"] = French }),
            WordDelay = TimeSpan.FromMilliseconds(1),
        },
        TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();

        // Every event on the wire, the client's included, matched OpenAI's published schemas.
        Assert.True(_server.SchemaViolations.Count == 0, string.Join('\n', _server.SchemaViolations));
    }

    private readonly ListLogger<RealtimeTextTranslationTrack> _log = new();

    private TextRun Start(CancellationToken ct, string language = "es", Action<RealtimeOptions>? configure = null, TimeProvider? time = null, GlossarySource? glossary = null)
    {
        var options = FakeServerTrackOptions.For(_server.Endpoint, configure);
        var connector = new OpenAiRealtimeConnector(Options.Create(options));
        var track = new RealtimeTextTranslationTrack(new CaptionLanguage(language, IsSource: false), options, connector, _log, time ?? TimeProvider.System, glossary);
        return new TextRun(track, time ?? TimeProvider.System, ct);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_Lines_TranslatedInOrderInATextOnlySessionWithEarlierLinesAsContext()
    {
        var es = Start(TestContext.Current.CancellationToken);

        for (var i = 0; i < 3; i++)
        {
            await es.SayAsync($"src{i}", English[i]);
        }

        await es.EndAsync();

        var captions = es.Captions("main");
        Assert.Equal([Spanish[0], Spanish[1], Spanish[2]], captions.CompletedInTurnOrder());
        Assert.Equal(["src0", "src1", "src2"], captions.Completed.Select(c => c.ItemId));
        Assert.Equal(new string?[] { null, "src0", "src1" }, captions.Commits.Select(c => c.Previous));
        Assert.Equal(TimeSpan.FromSeconds(2), captions.Commits[2].Start);
        Assert.Empty(captions.Failed);
        foreach (var (itemId, text) in captions.Completed)
        {
            Assert.Equal(text, captions.DeltasOf(itemId));
        }

        var status = es.Track.Status;
        Assert.Equal(TrackSessionState.Stopped, status.State);
        Assert.Equal(3, status.TurnsCompleted);
        Assert.Equal("gpt-realtime-mini", status.Model);
        Assert.True(status.Usage.TextInputTokens > 0 && status.Usage.TextOutputTokens > 0);
        Assert.Equal(0, status.Usage.AudioInputTokens);
        Assert.True(new CostMeter(Options.Create(new PricingOptions())).CostOf(status.Model, status.Usage) > 0m);

        var session = Assert.Single(_server.Sessions);
        Assert.Equal(FakeSessionType.Realtime, session.SessionType);
        Assert.Equal("gpt-realtime-mini", session.Model);
        Assert.Equal("es", session.TargetLanguage);
        Assert.DoesNotContain(session.ClientEventTypes, t => t.StartsWith("input_audio_buffer.", StringComparison.Ordinal));
        Assert.Equal(0, session.AppendedBytes);
        Assert.Empty(session.ErrorsSent);

        // Each response translated its own line, seeing only earlier lines and their translations (at most the
        // conversation bound of 6 items: the last two pairs and the line).
        var requests = session.ResponseRequests;
        Assert.Equal<string?>(English[..3], requests.Select(r => r.SourceText));
        Assert.Equal<string?>([English[0]], requests[0].ContextTexts);
        Assert.Equal<string?>([English[0], Spanish[0], English[1]], requests[1].ContextTexts);
        Assert.Equal<string?>([English[0], Spanish[0], English[1], Spanish[1], English[2]], requests[2].ContextTexts);

        using var config = JsonDocument.Parse(session.SessionConfig);
        var configured = config.RootElement;
        Assert.Equal("text", Assert.Single(configured.GetProperty("output_modalities").EnumerateArray()).GetString());
        Assert.Equal(JsonValueKind.Null, configured.GetProperty("audio").GetProperty("input").GetProperty("turn_detection").ValueKind);
        Assert.Contains("into Spanish (es)", configured.GetProperty("instructions").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ManyLines_ConversationStaysBoundedAndContextNeverHoldsALaterLine()
    {
        var ct = TestContext.Current.CancellationToken;
        var fr = Start(ct, "fr", o => o.MaxConversationItems = 4);

        for (var i = 0; i < English.Length; i++)
        {
            await fr.SayAsync($"src{i}", English[i]);
        }

        await fr.EndAsync();

        Assert.Equal(French, fr.Captions("main").CompletedInTurnOrder());
        var session = Assert.Single(_server.Sessions);
        Assert.Contains("conversation.item.delete", session.ClientEventTypes);
        Assert.Empty(session.ErrorsSent);

        // At most the bound, plus the line and its answer of a response that just ended (trimmed after it).
        Assert.InRange(session.PeakConversationItemCount, 4, 6);
        await Poll.UntilAsync(() => session.ConversationItemCount <= 4, "the server deleted the oldest items", ct);
        var requests = session.ResponseRequests;
        for (var i = 0; i < requests.Count; i++)
        {
            var line = Array.IndexOf(English, requests[i].SourceText);
            Assert.Equal(i, line);
            Assert.Equal(requests[i].SourceText, requests[i].ContextTexts[^1]);
            Assert.All(requests[i].ContextTexts, text => Assert.True(
                Array.IndexOf(English, text) is var e && (e >= 0 ? e <= line : Array.IndexOf(French, text) < line),
                $"the context of line {line} holds '{text}'"));
            Assert.InRange(requests[i].ContextTexts.Count, 1, 3);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TwoSpeakers_EachTranslationGoesToItsSpeakersTrackAfterTheirPreviousLine()
    {
        var es = Start(TestContext.Current.CancellationToken);

        await es.SayAsync("ana1", English[0], "ana");
        await es.SayAsync("ben1", English[1], "ben");
        await es.SayAsync("ana2", English[2], "ana");
        await es.EndAsync();

        var ana = es.Captions("ana");
        var ben = es.Captions("ben");
        Assert.Equal([Spanish[0], Spanish[2]], ana.CompletedInTurnOrder());
        Assert.Equal(new string?[] { null, "ana1" }, ana.Commits.Select(c => c.Previous));
        Assert.Equal([Spanish[1]], ben.CompletedInTurnOrder());
        Assert.Null(Assert.Single(ben.Commits).Previous);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionDroppedMidTranslation_ReplacedAndNoLineLostOrDoubled()
    {
        var ct = TestContext.Current.CancellationToken;
        var es = Start(TestContext.Current.CancellationToken);
        _server.Faults.HoldAnswer(Spanish[1]);

        await es.SayAsync("src0", English[0]);
        await es.SayAsync("src1", English[1]);
        await es.SayAsync("src2", English[2]);
        await Poll.UntilAsync(() => _server.Sessions.Count == 1 && _server.Sessions[0].ResponseRequests.Any(r => r.SourceText == English[1]), "the second line is being translated", ct);
        var first = _server.Sessions[0];
        await _server.Faults.DropConnectionAsync(first);
        _server.Faults.ReleaseAnswer(Spanish[1]);
        await es.Captions("main").WaitForCompletedAsync(3, ct);
        await es.EndAsync();

        var captions = es.Captions("main");
        Assert.Equal([Spanish[0], Spanish[1], Spanish[2]], captions.CompletedInTurnOrder());
        Assert.Equal(3, captions.Completed.Count);
        Assert.Equal(3, captions.Commits.Count);
        Assert.Empty(captions.Failed);
        Assert.Equal(Spanish[1], captions.DeltasOf("src1"));
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal<string?>([English[1], English[2]], _server.Sessions[1].ResponseRequests.Select(r => r.SourceText));

        // The new session was given the line translated before it as context, never a later one.
        Assert.Equal<string?>([English[0], Spanish[0], English[1]], _server.Sessions[1].ResponseRequests[0].ContextTexts);
        Assert.Equal(1, es.Track.Status.Reconnects);
        Assert.Equal(3, es.Track.Status.TurnsCompleted);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TranslationStalledPastTheLagLimit_SkippedCancelledAndCounted()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var es = Start(ct, time: time);
        _server.Faults.HoldAnswer(Spanish[1]);

        await es.SayAsync("src0", English[0]);
        await es.SayAsync("src1", English[1]);
        await es.Captions("main").WaitForCompletedAsync(1, ct);
        await Poll.UntilAsync(() => _server.Sessions.Count == 1 && _server.Sessions[0].ResponseRequests.Any(r => r.SourceText == English[1]), "the second line is being translated", ct);
        time.Advance(TimeSpan.FromSeconds(10));
        await es.Captions("main").UntilAsync(() => es.Captions("main").Failed.Count == 1, "the stalled line is skipped", ct);

        // The next line is not held up by the one skipped: its translation is asked for once the cancel ended it.
        await es.SayAsync("src2", English[2]);
        await es.Captions("main").WaitForCompletedAsync(2, ct);
        await es.EndAsync();

        var captions = es.Captions("main");
        Assert.Equal([Spanish[0], Spanish[2]], captions.CompletedInTurnOrder());
        var failed = Assert.Single(captions.Failed);
        Assert.StartsWith("failed src1 ", failed, StringComparison.Ordinal);
        Assert.Contains("TranslationLagSeconds", failed, StringComparison.Ordinal);
        Assert.Equal(1, es.Track.Status.LinesSkippedLate);
        var session = Assert.Single(_server.Sessions);
        Assert.Contains("response.cancel", session.ClientEventTypes);
        Assert.Empty(session.ErrorsSent);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ServerHangsAndNeverEndsTheCancelledResponse_SessionReplacedAndLaterLinesTranslated()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var es = Start(ct, time: time);

        await es.SayAsync("src0", English[0]);
        await es.Captions("main").WaitForCompletedAsync(1, ct);
        _server.Faults.HoldAnswer(Spanish[1]);
        await es.SayAsync("src1", English[1]);
        await Poll.UntilAsync(() => _server.Sessions[0].ResponseRequests.Any(r => r.SourceText == English[1]), "the second line is being translated", ct);

        // From now on the server reads nothing: the cancel never arrives, the response never ends.
        _server.Faults.StallLanguage("es");
        time.Advance(TimeSpan.FromSeconds(10));
        await es.Captions("main").UntilAsync(() => es.Captions("main").Failed.Count == 1, "the stalled line is skipped", ct);
        // The skip arms the track's deadline for the cancelled response on its own loop, maybe after the test saw the
        // skip: a single jump of the clock could come before that deadline exists and never reach it. So the clock
        // moves a second at a time until the session is replaced (more time passing changes nothing else here).
        await Poll.UntilAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return es.Track.Status.Reconnects == 1;
            },
            "the hung session is replaced",
            ct,
            details: () => string.Join("\n", _log.Entries.Select(e => e.Message)));
        _server.Faults.ResumeLanguage("es");

        await es.SayAsync("src2", English[2]);
        await es.Captions("main").WaitForCompletedAsync(2, ct);
        await es.EndAsync();

        Assert.Equal([Spanish[0], Spanish[2]], es.Captions("main").CompletedInTurnOrder());
        Assert.StartsWith("failed src1 ", Assert.Single(es.Captions("main").Failed), StringComparison.Ordinal);
        Assert.Equal(1, es.Track.Status.LinesSkippedLate);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal<string?>([English[2]], _server.Sessions[1].ResponseRequests.Select(r => r.SourceText));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_LineOlderThanTheLagLimitWhenItsTurnComes_SkippedWithoutAsking()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var es = Start(ct, time: time);

        await es.SayAsync("old", English[0], finalAt: time.GetTimestamp() - (11 * time.TimestampFrequency));
        await es.SayAsync("src1", English[1]);
        await es.Captions("main").WaitForCompletedAsync(1, ct);
        await es.EndAsync();

        Assert.Equal([Spanish[1]], es.Captions("main").CompletedInTurnOrder());
        Assert.StartsWith("failed old ", Assert.Single(es.Captions("main").Failed), StringComparison.Ordinal);
        Assert.Equal(1, es.Track.Status.LinesSkippedLate);
        Assert.Equal<string?>([English[1]], Assert.Single(_server.Sessions).ResponseRequests.Select(r => r.SourceText));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_GlossaryChanged_NewInstructionsReachTheSessionBeforeTheNextLine()
    {
        var ct = TestContext.Current.CancellationToken;
        var source = new GlossarySource("/glossary.txt", null, Glossary.Parse("Kubernetes"));
        var es = Start(ct, glossary: source);

        await es.SayAsync("src0", English[0]);
        await es.Captions("main").WaitForCompletedAsync(1, ct);
        var session = Assert.Single(_server.Sessions);
        Assert.Contains("keep exactly as they are: Kubernetes\n", Instructions(session), StringComparison.Ordinal);

        source.Replace(Glossary.Parse("Kubernetes\nRanked mode | es: modo clasificatoria"));
        await es.SayAsync("src1", English[1]);
        await es.EndAsync();

        Assert.Equal([Spanish[0], Spanish[1]], es.Captions("main").CompletedInTurnOrder());
        Assert.Contains("- Ranked mode => modo clasificatoria\n", Instructions(session), StringComparison.Ordinal);
        var sent = session.ClientEventTypes.ToList();
        var updates = sent.Select((type, i) => (type, i)).Where(e => e.type == "session.update").Select(e => e.i).ToList();
        var responses = sent.Select((type, i) => (type, i)).Where(e => e.type == "response.create").Select(e => e.i).ToList();
        Assert.Equal(2, updates.Count);
        Assert.Equal(2, responses.Count);
        Assert.InRange(updates[1], responses[0], responses[1]);
        Assert.Empty(session.ErrorsSent);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionNearsItsLimit_NextSessionTakesOverBetweenLinesWithoutAskingAnyLineTwice()
    {
        var ct = TestContext.Current.CancellationToken;
        var es = Start(ct, configure: o => o.RolloverAfterMinutes = 0.005);

        await es.SayAsync("src0", English[0]);
        await es.Captions("main").WaitForCompletedAsync(1, ct);
        await Poll.UntilAsync(() => es.Track.Status.Rollovers >= 1, "the track rolled over", ct);
        await es.SayAsync("src1", English[1]);
        await es.SayAsync("src2", English[2]);
        await es.EndAsync();

        var captions = es.Captions("main");
        Assert.Equal([Spanish[0], Spanish[1], Spanish[2]], captions.CompletedInTurnOrder());
        Assert.Empty(captions.Failed);
        Assert.True(_server.Sessions.Count >= 2);
        Assert.Equal<string?>(English[..3], _server.Sessions.SelectMany(s => s.ResponseRequests).Select(r => r.SourceText));
        Assert.Equal(0, es.Track.Status.Reconnects);
        var second = _server.Sessions[1].ResponseRequests;
        if (second.Count > 0)
        {
            // A session taking over is given the lines translated before it as context.
            Assert.Equal(English[0], second[0].ContextTexts[0]);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_InputEndsWhileATranslationStalls_GivenUpAfterTheDrainTimeoutAndReturns()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var es = Start(ct, configure: o => o.TranslationLagSeconds = 600, time: time);
        _server.Faults.HoldAnswer(Spanish[1]);

        await es.SayAsync("src0", English[0]);
        await es.SayAsync("src1", English[1]);
        await Poll.UntilAsync(() => _server.Sessions.Count == 1 && _server.Sessions[0].ResponseRequests.Any(r => r.SourceText == English[1]), "the second line is being translated", ct);
        var ended = es.EndAsync();
        await Poll.UntilAsync(() => es.Track.Status.State == TrackSessionState.Draining, "the track drains", ct);
        // The drain's deadline, and after it the close's 2 s, are armed on the track's loop, maybe after the test saw
        // "draining": one jump of the clock could come before them and never reach them. So the clock moves a second at
        // a time until the track has returned.
        await Poll.UntilAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return ended.IsCompleted;
            },
            "the track gives up the stalled line and returns",
            ct);
        await ended;

        var captions = es.Captions("main");
        Assert.Equal([Spanish[0]], captions.CompletedInTurnOrder());
        Assert.StartsWith("failed src1 ", Assert.Single(captions.Failed), StringComparison.Ordinal);
        Assert.Equal(TrackSessionState.Stopped, es.Track.Status.State);
        Assert.Equal(0, es.Track.Status.LinesSkippedLate);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_Cancelled_StopsAtOnceAndClosesTheSession()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var es = Start(stop.Token);
        _server.Faults.HoldAnswer(Spanish[0]);

        await es.SayAsync("src0", English[0]);
        await Poll.UntilAsync(() => _server.Sessions.Count == 1 && _server.Sessions[0].ResponseRequests.Count == 1, "the line is being translated", TestContext.Current.CancellationToken);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(es.EndAsync);
        await Poll.UntilAsync(() => !_server.Sessions[0].IsOpen, "the session is closed", TestContext.Current.CancellationToken);
        Assert.Empty(es.Captions("main").Completed);
    }

    private static string Instructions(FakeSession session)
    {
        using var config = JsonDocument.Parse(session.SessionConfig);
        return config.RootElement.GetProperty("instructions").GetString()!;
    }

    /// <summary>A running track: its lines channel, the caption inputs of each speaker, its run.</summary>
    private sealed class TextRun
    {
        private readonly Channel<SourceLine> _lines = Channel.CreateUnbounded<SourceLine>();
        private readonly ConcurrentDictionary<string, RecordingCaptionInput> _captions = new(StringComparer.Ordinal);
        private readonly TimeProvider _time;
        private readonly CancellationToken _cancellationToken;
        private readonly Task _run;
        private int _lineNumber;

        public TextRun(RealtimeTextTranslationTrack track, TimeProvider time, CancellationToken cancellationToken)
        {
            Track = track;
            _time = time;
            _cancellationToken = cancellationToken;
            _run = track.RunAsync(_lines.Reader, Captions, cancellationToken);
        }

        public RealtimeTextTranslationTrack Track { get; }

        /// <summary>The caption input of <paramref name="speaker"/>'s track of the target language.</summary>
        public RecordingCaptionInput Captions(string speaker) => _captions.GetOrAdd(speaker, _ => new RecordingCaptionInput());

        /// <summary>A line of <paramref name="speaker"/> became final now (or at <paramref name="finalAt"/>), one second long.</summary>
        public async Task SayAsync(string itemId, string text, string speaker = "main", long? finalAt = null)
        {
            var start = TimeSpan.FromSeconds(_lineNumber++);
            await _lines.Writer.WriteAsync(
                new SourceLine(speaker, null, "en", itemId, text, start, start + TimeSpan.FromSeconds(1), finalAt ?? _time.GetTimestamp()),
                _cancellationToken);
        }

        /// <summary>Ends the input and waits for the track to finish its lines.</summary>
        public async Task EndAsync()
        {
            _lines.Writer.TryComplete();
            await _run;
        }
    }
}
