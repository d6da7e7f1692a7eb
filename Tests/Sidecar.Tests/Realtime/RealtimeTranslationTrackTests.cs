using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>The Realtime translation track against the protocol-exact fake server, in process.</summary>
public sealed class RealtimeTranslationTrackTests : IAsyncLifetime
{
    private static readonly string[] English = ["First line of the stream.", "Second line right here.", "A third one."];
    private static readonly string[] Spanish = ["Primera línea del directo.", "Segunda línea aquí mismo.", "Una tercera."];
    private static readonly string[] French = ["Première ligne du live.", "Deuxième ligne ici même.", "Une troisième."];
    private readonly ToneAudio _audio = new();
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await StartServerAsync(TimeSpan.FromMilliseconds(1));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static Task<FakeRealtimeServer> StartServerAsync(TimeSpan wordDelay) => FakeRealtimeServer.StartAsync(
        new FakeRealtimeOptions
        {
            Script = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish, ["fr"] = French }),
            WordDelay = wordDelay,
        },
        TestContext.Current.CancellationToken);

    /// <summary>Words slow enough that turns end while a translation still streams.</summary>
    private async Task SlowWordsAsync(TimeSpan wordDelay)
    {
        await _server.DisposeAsync();
        _server = await StartServerAsync(wordDelay);
    }

    /// <summary>Starts a translation track into <paramref name="language"/> on its own audio channel.</summary>
    private RunningTrack Start(CancellationToken cancellationToken, string language = "es", Action<RealtimeOptions>? configure = null)
    {
        var options = FakeServerTrackOptions.For(_server.Endpoint, configure);
        var connector = new OpenAiRealtimeConnector(Options.Create(options));
        var track = new RealtimeTranslationTrack(new CaptionLanguage(language, IsSource: false), options, connector, NullLogger.Instance, TimeProvider.System);
        return new RunningTrack(track, cancellationToken);
    }

    private IEnumerable<AudioChunk> Turn() => _audio.Tone(TimeSpan.FromMilliseconds(800)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000)));

    private IEnumerable<AudioChunk> ShortTurn() => _audio.Tone(TimeSpan.FromMilliseconds(300)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(400)));

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TwoSpokenTurns_CaptionsTheTargetLinesInTurnOrder()
    {
        var es = Start(TestContext.Current.CancellationToken);

        await es.SayAsync(_audio.Silence(TimeSpan.FromMilliseconds(500)).Concat(Turn()).Concat(Turn()));
        await es.EndAsync();

        var captions = es.Captions;
        Assert.Equal([Spanish[0], Spanish[1]], captions.CompletedInTurnOrder());
        var commits = captions.Commits;
        Assert.Equal(2, commits.Count);
        Assert.Null(commits[0].Previous);
        Assert.Equal(commits[0].ItemId, commits[1].Previous);
        Assert.InRange(commits[0].Start.TotalMilliseconds, 150, 550);
        Assert.InRange(commits[1].Start.TotalMilliseconds, 1950, 2350);
        foreach (var commit in commits)
        {
            // Deltas stream into the turn's caption, then the completed text; the commit came first.
            Assert.Equal(captions.Completed.Single(c => c.ItemId == commit.ItemId).Text, captions.DeltasOf(commit.ItemId));
            var calls = captions.Calls.ToList();
            Assert.True(calls.IndexOf($"committed {commit.ItemId}") < calls.IndexOf($"completed {commit.ItemId}"));
        }

        Assert.Empty(captions.Failed);
        Assert.Equal(TrackSessionState.Stopped, es.Track.Status.State);
        Assert.Equal(2, es.Track.Status.TurnsCompleted);
        Assert.Equal("gpt-realtime", es.Track.Status.Model);
        var session = Assert.Single(_server.Sessions);
        Assert.Equal(FakeSessionType.Realtime, session.SessionType);
        Assert.Equal("gpt-realtime", session.Model);
        Assert.Null(session.Intent);
        Assert.Null(session.BetaHeader);
        Assert.Equal("es", session.TargetLanguage);
        Assert.Empty(session.ErrorsSent);
        Assert.Equal(2, session.ClientEventTypes.Count(t => t == "response.create"));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionUpdate_AsksForBoundedTextTranslationsWithoutAutomaticOrInterruptingResponses()
    {
        var fr = Start(TestContext.Current.CancellationToken, "fr", o =>
        {
            o.TurnDetection = TurnDetectionMode.SemanticVad;
            o.Prompt = "Valorant, OBS";
            o.MaxOutputTokens = 200;
        });

        await fr.EndAsync();

        using var config = JsonDocument.Parse(Assert.Single(_server.Sessions).SessionConfig);
        var session = config.RootElement;
        Assert.Equal("realtime", session.GetProperty("type").GetString());
        Assert.Equal("text", Assert.Single(session.GetProperty("output_modalities").EnumerateArray()).GetString());
        Assert.Equal(200, session.GetProperty("max_output_tokens").GetInt32());
        var instructions = session.GetProperty("instructions").GetString()!;
        Assert.Contains("into French (fr)", instructions, StringComparison.Ordinal);
        Assert.Contains("Valorant, OBS", instructions, StringComparison.Ordinal);
        var input = session.GetProperty("audio").GetProperty("input");
        Assert.Equal(24000, input.GetProperty("format").GetProperty("rate").GetInt32());
        Assert.Equal("near_field", input.GetProperty("noise_reduction").GetProperty("type").GetString());
        var turnDetection = input.GetProperty("turn_detection");
        Assert.Equal("semantic_vad", turnDetection.GetProperty("type").GetString());
        Assert.False(turnDetection.GetProperty("create_response").GetBoolean());
        Assert.False(turnDetection.GetProperty("interrupt_response").GetBoolean());
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TwoTargetsAtOnce_EachCaptionsItsOwnLanguage()
    {
        var es = Start(TestContext.Current.CancellationToken, "es");
        var fr = Start(TestContext.Current.CancellationToken, "fr");
        var turns = Turn().Concat(Turn()).Concat(Turn()).ToList();

        await Task.WhenAll(es.SayAsync(turns), fr.SayAsync(turns));
        await Task.WhenAll(es.EndAsync(), fr.EndAsync());

        Assert.Equal(Spanish, es.Captions.CompletedInTurnOrder());
        Assert.Equal(French, fr.Captions.CompletedInTurnOrder());
        Assert.Equal(["es", "fr"], _server.Sessions.Select(s => s.TargetLanguage).Order());
        // The server sees the close a moment after the track returns.
        await _server.WaitForSessionsAsync(sessions => sessions.All(s => !s.IsOpen), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TurnsFasterThanTranslations_OneResponseAtATimeAndEveryTurnCaptionedInOrder()
    {
        await SlowWordsAsync(TimeSpan.FromMilliseconds(60));
        var es = Start(TestContext.Current.CancellationToken, configure: o => o.SilenceDurationMs = 200);

        await es.SayAsync(ShortTurn().Concat(ShortTurn()).Concat(ShortTurn()));
        await es.EndAsync();

        Assert.Equal(Spanish, es.Captions.CompletedInTurnOrder());
        var session = Assert.Single(_server.Sessions);
        Assert.DoesNotContain("conversation_already_has_active_response", session.ErrorsSent);
        Assert.Equal(3, session.ClientEventTypes.Count(t => t == "response.create"));

        // Later turns were already in the conversation when an earlier one was translated, yet no response saw them.
        var requests = session.ResponseRequests;
        var turns = requests.Select(r => r.Turn).ToList();
        Assert.Contains(requests, r => r.Conversation.Contains(turns[^1]) && r.Turn != turns[^1]);
        for (var k = 0; k < requests.Count; k++)
        {
            var context = Assert.IsAssignableFrom<IReadOnlyList<string>>(requests[k].Context);
            Assert.Equal(requests[k].Turn, context[^1]);
            Assert.DoesNotContain(context, item => turns.Skip(k + 1).Contains(item));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ConnectionDroppedMidTurn_ReconnectsAndTranslatesTheTurnOnce()
    {
        var es = Start(TestContext.Current.CancellationToken);
        await es.SayAsync(Turn());
        await es.Captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        var tone = _audio.Tone(TimeSpan.FromMilliseconds(800)).ToList();
        await es.SayAsync(tone.Take(20));
        await Poll.UntilAsync(() => _server.Sessions[0].AppendedBytes >= 960 * 110, "the fake server heard 110 chunks", TestContext.Current.CancellationToken);
        await _server.Faults.DropConnectionsAsync();
        await es.SayAsync(tone.Skip(20).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000))));
        await es.EndAsync();

        // The dropped turn was never committed, so no line was spent on it: the new session translates it as the second line.
        Assert.Equal([Spanish[0], Spanish[1]], es.Captions.CompletedInTurnOrder());
        Assert.Equal(2, es.Captions.Completed.Count);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal(1, es.Track.Status.Reconnects);
        var second = es.Captions.Commits.Single(c => c.ItemId == es.Captions.Completed[1].ItemId);
        Assert.InRange(second.Start.TotalMilliseconds, 1450, 1850);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ConnectionDroppedWhileTranslating_TheTurnFailsOnceAndIsTranslatedAgainFromItsAudio()
    {
        await SlowWordsAsync(TimeSpan.FromMilliseconds(150));
        var es = Start(TestContext.Current.CancellationToken);
        await es.SayAsync(Turn());
        await es.Captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);
        await es.SayAsync(Turn());
        var captions = es.Captions;
        await captions.UntilAsync(() => captions.Commits.Count == 2 && captions.DeltasOf(captions.Commits[1].ItemId).Length > 0, "the second turn got text", TestContext.Current.CancellationToken);

        await _server.Faults.DropConnectionsAsync();
        await es.EndAsync();

        // The fake's script moves on per answer, so the retried turn gets the third line: one text per turn, none twice.
        var lost = captions.Commits[1];
        Assert.Equal([$"failed {lost.ItemId}"], captions.Failed.Select(f => string.Join(' ', f.Split(' ').Take(2))));
        Assert.Equal([Spanish[0], Spanish[2]], captions.CompletedInTurnOrder());
        var retried = captions.Commits.Single(c => c.ItemId == captions.Completed[1].ItemId);
        Assert.Equal(lost.Start, retried.Start);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal(1, es.Track.Status.Reconnects);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionExpiresBetweenTurns_ANewSessionTranslatesTheNextTurn()
    {
        var es = Start(TestContext.Current.CancellationToken);
        await es.SayAsync(Turn());
        await es.Captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        await _server.Faults.ExpireSessionsAsync();
        await es.SayAsync(Turn());
        await es.EndAsync();

        Assert.Equal([Spanish[0], Spanish[1]], es.Captions.CompletedInTurnOrder());
        Assert.Equal(2, _server.Sessions.Count);
        await _server.WaitForSessionsAsync(sessions => sessions.All(s => !s.IsOpen), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 120000)]
    public async Task RunAsync_HundredTurns_ConversationStaysWithinMaxConversationItems()
    {
        var es = Start(TestContext.Current.CancellationToken, configure: o =>
        {
            o.SilenceDurationMs = 200;
            o.MaxConversationItems = 6;
        });

        // Each turn waits for the previous translation, as speech in real time would: unpaced audio would commit
        // every turn before the first answer, and a turn still waiting for its answer is never deleted.
        for (var i = 0; i < 100; i++)
        {
            await es.SayAsync(ShortTurn());
            await es.Captions.WaitForCompletedAsync(i + 1, TestContext.Current.CancellationToken);
        }

        await es.EndAsync();

        Assert.Equal(100, es.Captions.Completed.Count);
        Assert.Empty(es.Captions.Failed);
        var session = Assert.Single(_server.Sessions);
        Assert.InRange(session.ConversationItemCount, 1, 6);
        // Between an answer and the deletions it triggers, the two items of the newest turn are there on top.
        Assert.InRange(session.PeakConversationItemCount, 6, 8);
        Assert.Equal((2 * 100) - session.ConversationItemCount, session.ClientEventTypes.Count(t => t == "conversation.item.delete"));
        Assert.Empty(session.ErrorsSent);

        // Every translation sees the two turns before it with their answers, then its own turn: flat context.
        var contexts = session.ResponseRequests.Select(r => r.Context!).ToList();
        Assert.Equal([1, 3, 5, 5], contexts.Take(3).Append(contexts[^1]).Select(c => c.Count));
        Assert.All(contexts.Skip(2), c => Assert.Equal(5, c.Count));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ResponsesReportUsage_SummedIntoTheTrackStatus()
    {
        var es = Start(TestContext.Current.CancellationToken);
        await es.SayAsync(Turn());
        await es.Captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);
        await es.SayAsync(Turn());
        await es.EndAsync();

        // The fake bills 10 audio tokens a second of each turn's committed audio in the context, a token per 4
        // characters of instructions, of an earlier answer and of output. Contexts: turn 1; then turn 1, answer 1, turn 2.
        var usage = es.Track.Status.Usage;
        var committed = Assert.Single(_server.Sessions).CommittedAudio.Select(a => (long)a.TotalMilliseconds / 100).ToList();
        var instructionTokens = (TranslationInstructions.For("es", null).Length + 3) / 4;
        Assert.Equal((2 * instructionTokens) + ((Spanish[0].Length + 3) / 4), usage.TextInputTokens);
        Assert.Equal(((Spanish[0].Length + 3) / 4) + ((Spanish[1].Length + 3) / 4), usage.TextOutputTokens);
        Assert.Equal(2, committed.Count);
        Assert.Equal((2 * committed[0]) + committed[1], usage.AudioInputTokens);
        Assert.Equal(0, usage.CachedAudioInputTokens + usage.CachedTextInputTokens);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_OneTargetStalled_TheOtherKeepsCaptioningAndTheStalledOneCatchesUp()
    {
        _server.Faults.StallLanguage("es");
        var es = Start(TestContext.Current.CancellationToken, "es");
        var fr = Start(TestContext.Current.CancellationToken, "fr");
        var turns = Turn().Concat(Turn()).ToList();
        await Task.WhenAll(es.SayAsync(turns), fr.SayAsync(turns));

        await fr.Captions.WaitForCompletedAsync(2, TestContext.Current.CancellationToken);
        Assert.Empty(es.Captions.Completed);
        Assert.Equal(2, _server.Sessions.Count(s => s.IsOpen));

        _server.Faults.ResumeLanguage("es");
        await Task.WhenAll(es.EndAsync(), fr.EndAsync());

        Assert.Equal([French[0], French[1]], fr.Captions.CompletedInTurnOrder());
        Assert.Equal([Spanish[0], Spanish[1]], es.Captions.CompletedInTurnOrder());
    }

    /// <summary>A track running on its own unbounded audio channel, recording what it reports.</summary>
    private sealed class RunningTrack
    {
        private readonly Channel<AudioChunk> _chunks = Channel.CreateUnbounded<AudioChunk>();
        private readonly CancellationToken _cancellationToken;
        private readonly Task _run;

        public RunningTrack(RealtimeTranslationTrack track, CancellationToken cancellationToken)
        {
            Track = track;
            _cancellationToken = cancellationToken;
            _run = track.RunAsync(_chunks.Reader, Captions, cancellationToken);
        }

        public RealtimeTranslationTrack Track { get; }

        public RecordingCaptionInput Captions { get; } = new();

        /// <summary>Queues audio for the track (unpaced).</summary>
        public async Task SayAsync(IEnumerable<AudioChunk> chunks)
        {
            foreach (var chunk in chunks)
            {
                await _chunks.Writer.WriteAsync(chunk, _cancellationToken);
            }
        }

        /// <summary>Ends the input and waits for the track to finish its pending turns.</summary>
        public async Task EndAsync()
        {
            _chunks.Writer.TryComplete();
            await _run;
        }
    }
}
