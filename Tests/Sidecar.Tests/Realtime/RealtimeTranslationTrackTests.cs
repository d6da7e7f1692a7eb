using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
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

    private RealtimeTranslationTrack Track(string language = "es", Action<RealtimeOptions>? configure = null)
    {
        var options = new RealtimeOptions
        {
            ApiKey = "test-key",
            Endpoint = _server.Endpoint,
            TurnDetection = TurnDetectionMode.ServerVad,
            DrainTimeoutSeconds = 20,
            HandshakeTimeoutSeconds = 10,
        };
        configure?.Invoke(options);
        var connector = new OpenAiRealtimeConnector(Options.Create(options));
        return new RealtimeTranslationTrack(new CaptionLanguage(language, IsSource: false), options, connector, NullLogger.Instance, TimeProvider.System);
    }

    private IEnumerable<AudioChunk> Turn() => _audio.Tone(TimeSpan.FromMilliseconds(800)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000)));

    private static async Task WriteAsync(Channel<AudioChunk> channel, IEnumerable<AudioChunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            await channel.Writer.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TwoSpokenTurns_CaptionsTheTargetLinesInTurnOrder()
    {
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track();
        await WriteAsync(chunks, _audio.Silence(TimeSpan.FromMilliseconds(500)).Concat(Turn()).Concat(Turn()));
        chunks.Writer.Complete();

        await track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);

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
        Assert.Equal(TrackSessionState.Stopped, track.Status.State);
        Assert.Equal(2, track.Status.TurnsCompleted);
        Assert.Equal("gpt-realtime", track.Status.Model);
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
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var track = Track("fr", o =>
        {
            o.TurnDetection = TurnDetectionMode.SemanticVad;
            o.Prompt = "Valorant, OBS";
            o.MaxOutputTokens = 200;
        });
        chunks.Writer.Complete();

        await track.RunAsync(chunks.Reader, new RecordingCaptionInput(), TestContext.Current.CancellationToken);

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
        var spanish = (Chunks: Channel.CreateUnbounded<AudioChunk>(), Captions: new RecordingCaptionInput());
        var french = (Chunks: Channel.CreateUnbounded<AudioChunk>(), Captions: new RecordingCaptionInput());
        var turns = Turn().Concat(Turn()).Concat(Turn()).ToList();
        await WriteAsync(spanish.Chunks, turns);
        await WriteAsync(french.Chunks, turns);
        spanish.Chunks.Writer.Complete();
        french.Chunks.Writer.Complete();

        await Task.WhenAll(
            Track("es").RunAsync(spanish.Chunks.Reader, spanish.Captions, TestContext.Current.CancellationToken),
            Track("fr").RunAsync(french.Chunks.Reader, french.Captions, TestContext.Current.CancellationToken));

        Assert.Equal(Spanish, spanish.Captions.CompletedInTurnOrder());
        Assert.Equal(French, french.Captions.CompletedInTurnOrder());
        Assert.Equal(["es", "fr"], _server.Sessions.Select(s => s.TargetLanguage).Order());
        // The server sees the close a moment after the track returns.
        await _server.WaitForSessionsAsync(sessions => sessions.All(s => !s.IsOpen), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TurnsFasterThanTranslations_OneResponseAtATimeAndEveryTurnCaptionedInOrder()
    {
        // Slow words: several turns are committed while a translation still streams.
        await _server.DisposeAsync();
        _server = await StartServerAsync(TimeSpan.FromMilliseconds(60));
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track(configure: o => o.SilenceDurationMs = 200);
        for (var i = 0; i < 3; i++)
        {
            await WriteAsync(chunks, _audio.Tone(TimeSpan.FromMilliseconds(300)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(400))));
        }

        chunks.Writer.Complete();

        await track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);

        Assert.Equal(Spanish, captions.CompletedInTurnOrder());
        var session = Assert.Single(_server.Sessions);
        Assert.DoesNotContain("conversation_already_has_active_response", session.ErrorsSent);
        Assert.Equal(3, session.ClientEventTypes.Count(t => t == "response.create"));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ConnectionDroppedMidTurn_ReconnectsAndTranslatesTheTurnOnce()
    {
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track();
        var run = track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);
        await WriteAsync(chunks, Turn());
        await captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        var tone = _audio.Tone(TimeSpan.FromMilliseconds(800)).ToList();
        await WriteAsync(chunks, tone.Take(20));
        await Eventually.TrueAsync(() => _server.Sessions[0].AppendedBytes >= 960 * 110, TestContext.Current.CancellationToken);
        await _server.Faults.DropConnectionsAsync();
        await WriteAsync(chunks, tone.Skip(20).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000))));
        chunks.Writer.Complete();
        await run;

        // The dropped turn was never committed, so no line was spent on it: the new session translates it as the second line.
        Assert.Equal([Spanish[0], Spanish[1]], captions.CompletedInTurnOrder());
        Assert.Equal(2, captions.Completed.Count);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal(1, track.Status.Reconnects);
        var second = captions.Commits.Single(c => c.ItemId == captions.Completed[1].ItemId);
        Assert.InRange(second.Start.TotalMilliseconds, 1450, 1850);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ConnectionDroppedWhileTranslating_TheTurnFailsOnceAndIsTranslatedAgainFromItsAudio()
    {
        // Slow words: the drop comes while the second turn's translation streams.
        await _server.DisposeAsync();
        _server = await StartServerAsync(TimeSpan.FromMilliseconds(150));
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track();
        var run = track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);
        await WriteAsync(chunks, Turn());
        await captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);
        await WriteAsync(chunks, Turn());
        await Eventually.TrueAsync(() => captions.Commits.Count == 2 && captions.DeltasOf(captions.Commits[1].ItemId).Length > 0, TestContext.Current.CancellationToken);

        await _server.Faults.DropConnectionsAsync();
        chunks.Writer.Complete();
        await run;

        // The fake's script moves on per answer, so the retried turn gets the third line: one text per turn, none twice.
        var lost = captions.Commits[1];
        Assert.Equal([$"failed {lost.ItemId}"], captions.Failed.Select(f => string.Join(' ', f.Split(' ').Take(2))));
        Assert.Equal([Spanish[0], Spanish[2]], captions.CompletedInTurnOrder());
        var retried = captions.Commits.Single(c => c.ItemId == captions.Completed[1].ItemId);
        Assert.Equal(lost.Start, retried.Start);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Equal(1, track.Status.Reconnects);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionExpiresBetweenTurns_ANewSessionTranslatesTheNextTurn()
    {
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track();
        var run = track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);
        await WriteAsync(chunks, Turn());
        await captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);

        await _server.Faults.ExpireSessionsAsync();
        await WriteAsync(chunks, Turn());
        chunks.Writer.Complete();
        await run;

        Assert.Equal([Spanish[0], Spanish[1]], captions.CompletedInTurnOrder());
        Assert.Equal(2, _server.Sessions.Count);
        // The server sees the close a moment after the track returns.
        await _server.WaitForSessionsAsync(sessions => sessions.All(s => !s.IsOpen), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 120000)]
    public async Task RunAsync_HundredTurns_ConversationStaysWithinMaxConversationItems()
    {
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track(configure: o =>
        {
            o.SilenceDurationMs = 200;
            o.MaxConversationItems = 6;
        });
        var run = track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);

        // Each turn waits for the previous translation, as speech in real time would: unpaced audio would commit
        // every turn before the first answer, and a turn still waiting for its answer is never deleted.
        for (var i = 0; i < 100; i++)
        {
            await WriteAsync(chunks, _audio.Tone(TimeSpan.FromMilliseconds(300)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(400))));
            await captions.WaitForCompletedAsync(i + 1, TestContext.Current.CancellationToken);
        }

        chunks.Writer.Complete();
        await run;

        Assert.Equal(100, captions.Completed.Count);
        Assert.Empty(captions.Failed);
        var session = Assert.Single(_server.Sessions);
        Assert.InRange(session.ConversationItemCount, 1, 6);
        // Between an answer and the deletions it triggers, the two items of the newest turn are there on top.
        Assert.InRange(session.PeakConversationItemCount, 6, 8);
        Assert.Equal((2 * 100) - session.ConversationItemCount, session.ClientEventTypes.Count(t => t == "conversation.item.delete"));
        Assert.Empty(session.ErrorsSent);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_ResponsesReportUsage_SummedIntoTheTrackStatus()
    {
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var track = Track();
        var run = track.RunAsync(chunks.Reader, captions, TestContext.Current.CancellationToken);
        await WriteAsync(chunks, Turn());
        await captions.WaitForCompletedAsync(1, TestContext.Current.CancellationToken);
        await WriteAsync(chunks, Turn());
        chunks.Writer.Complete();
        await run;

        // The fake bills 20 audio tokens per context item, a token per 4 characters of instructions and of output.
        var usage = track.Status.Usage;
        var instructionTokens = (TranslationInstructions.For("es", null).Length + 3) / 4;
        Assert.Equal(2 * instructionTokens, usage.TextInputTokens);
        Assert.Equal(((Spanish[0].Length + 3) / 4) + ((Spanish[1].Length + 3) / 4), usage.TextOutputTokens);
        Assert.Equal((1 + 3) * 20, usage.AudioInputTokens); // a context of 1 item (the turn), then 3 (turn, answer, turn)
        Assert.Equal(0, usage.CachedAudioInputTokens + usage.CachedTextInputTokens);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_OneTargetStalled_TheOtherKeepsCaptioningAndTheStalledOneCatchesUp()
    {
        _server.Faults.StallLanguage("es");
        var spanish = (Chunks: Channel.CreateUnbounded<AudioChunk>(), Captions: new RecordingCaptionInput());
        var french = (Chunks: Channel.CreateUnbounded<AudioChunk>(), Captions: new RecordingCaptionInput());
        var turns = Turn().Concat(Turn()).ToList();
        var runs = Task.WhenAll(
            Track("es").RunAsync(spanish.Chunks.Reader, spanish.Captions, TestContext.Current.CancellationToken),
            Track("fr").RunAsync(french.Chunks.Reader, french.Captions, TestContext.Current.CancellationToken));
        await WriteAsync(spanish.Chunks, turns);
        await WriteAsync(french.Chunks, turns);

        await french.Captions.WaitForCompletedAsync(2, TestContext.Current.CancellationToken);
        Assert.Empty(spanish.Captions.Completed);
        Assert.Equal(2, _server.Sessions.Count(s => s.IsOpen));

        _server.Faults.ResumeLanguage("es");
        spanish.Chunks.Writer.Complete();
        french.Chunks.Writer.Complete();
        await runs;

        Assert.Equal([French[0], French[1]], french.Captions.CompletedInTurnOrder());
        Assert.Equal([Spanish[0], Spanish[1]], spanish.Captions.CompletedInTurnOrder());
    }
}
