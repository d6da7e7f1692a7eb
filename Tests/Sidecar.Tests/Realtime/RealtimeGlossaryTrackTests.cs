using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>A glossary change reaching running Realtime sessions (against the protocol-exact fake server, in process).</summary>
public sealed class RealtimeGlossaryTrackTests : IAsyncLifetime
{
    private static readonly string[] English = ["First line of the stream.", "Second line right here.", "A third one."];
    private static readonly string[] Spanish = ["Primera línea del directo.", "Segunda línea aquí mismo.", "Una tercera."];
    private readonly ToneAudio _audio = new();
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await FakeRealtimeServer.StartAsync(
        new FakeRealtimeOptions
        {
            Script = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish }),
            WordDelay = TimeSpan.FromMilliseconds(1),
        },
        TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private IEnumerable<AudioChunk> Turn() => _audio.Tone(TimeSpan.FromMilliseconds(800)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(1000)));

    [Fact(Timeout = 60000)]
    public async Task TranslationTrack_GlossaryChangedAfterASentence_NewInstructionsReachTheSessionBeforeTheNextSentence()
    {
        var ct = TestContext.Current.CancellationToken;
        var source = new GlossarySource("/glossary.txt", null, Glossary.Parse("Kubernetes"));
        var options = FakeServerTrackOptions.For(_server.Endpoint);
        var track = new RealtimeTranslationTrack(
            new CaptionLanguage("es", IsSource: false), options, new OpenAiRealtimeConnector(Options.Create(options)), NullLogger.Instance, TimeProvider.System, source);
        var audio = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var run = track.RunAsync(audio.Reader, captions, ct);

        await WriteAsync(audio, Turn(), ct);
        await captions.WaitForCompletedAsync(1, ct);
        var session = Assert.Single(_server.Sessions);
        Assert.Contains("keep exactly as they are: Kubernetes\n", Instructions(session), StringComparison.Ordinal);

        source.Replace(Glossary.Parse("Kubernetes\nRanked mode | es: modo clasificatoria"));
        await WriteAsync(audio, Turn(), ct);
        audio.Writer.Complete();
        await run;

        Assert.Equal([Spanish[0], Spanish[1]], captions.CompletedInTurnOrder());
        Assert.Same(session, Assert.Single(_server.Sessions));
        Assert.Contains("- Ranked mode => modo clasificatoria\n", Instructions(session), StringComparison.Ordinal);
        Assert.Empty(session.ErrorsSent);
        Assert.Empty(_server.SchemaViolations);

        // The new instructions went out before the second sentence's translation was asked for.
        var sent = session.ClientEventTypes.ToList();
        var updates = sent.Select((type, i) => (type, i)).Where(e => e.type == "session.update").Select(e => e.i).ToList();
        var responses = sent.Select((type, i) => (type, i)).Where(e => e.type == "response.create").Select(e => e.i).ToList();
        Assert.Equal(2, updates.Count);
        Assert.Equal(2, responses.Count);
        Assert.InRange(updates[1], responses[0], responses[1]);
    }

    [Fact(Timeout = 60000)]
    public async Task TranscriptionTrack_GlossaryChanged_NewTermsReachTheTranscriptionPrompt()
    {
        var ct = TestContext.Current.CancellationToken;
        var source = new GlossarySource("/glossary.txt", "OBS", Glossary.Parse("Kubernetes"));
        var options = FakeServerTrackOptions.For(_server.Endpoint, o => o.Prompt = "OBS");
        var track = new RealtimeTranscriptionTrack(
            new CaptionLanguage("en", IsSource: true), options, new OpenAiRealtimeConnector(Options.Create(options)), NullLogger.Instance, TimeProvider.System, source);
        var audio = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        var run = track.RunAsync(audio.Reader, captions, ct);

        await WriteAsync(audio, Turn(), ct);
        await captions.WaitForCompletedAsync(1, ct);
        var session = Assert.Single(_server.Sessions);
        Assert.Equal("OBS Kubernetes", Prompt(session));

        source.Replace(Glossary.Parse("Valorant"));
        await WriteAsync(audio, Turn(), ct);
        audio.Writer.Complete();
        await run;

        Assert.Equal([English[0], English[1]], captions.CompletedInTurnOrder());
        Assert.Equal("OBS Valorant", Prompt(session));
        Assert.Equal(2, session.ClientEventTypes.Count(t => t == "session.update"));
        Assert.Empty(session.ErrorsSent);
        Assert.Empty(_server.SchemaViolations);
    }

    private static async Task WriteAsync(Channel<AudioChunk> audio, IEnumerable<AudioChunk> chunks, CancellationToken ct)
    {
        foreach (var chunk in chunks)
        {
            await audio.Writer.WriteAsync(chunk, ct);
        }
    }

    private static string Instructions(FakeSession session)
    {
        using var config = JsonDocument.Parse(session.SessionConfig);
        return config.RootElement.GetProperty("instructions").GetString()!;
    }

    private static string? Prompt(FakeSession session)
    {
        using var config = JsonDocument.Parse(session.SessionConfig);
        return config.RootElement.GetProperty("audio").GetProperty("input").GetProperty("transcription").GetProperty("prompt").GetString();
    }
}
