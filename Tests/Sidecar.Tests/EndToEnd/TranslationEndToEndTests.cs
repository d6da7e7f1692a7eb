using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// One speaker, several caption languages: the sidecar as a process with real speech (espeak-ng) against the
/// protocol-exact fake Realtime server, whose conversation sessions answer each turn with the scripted line of their
/// target language.
/// </summary>
[Trait("Category", "Integration")]
public sealed class TranslationEndToEndTests : IAsyncLifetime
{
    internal static readonly string[] Spanish =
    [
        "Bienvenidos de nuevo al directo a todos.",
        "Hoy construimos una herramienta de subtítulos.",
        "Gracias por mirar y hasta pronto.",
    ];

    internal static readonly string[] French =
    [
        "Bon retour sur le live tout le monde.",
        "Aujourd'hui nous créons un outil de sous-titres.",
        "Merci d'avoir regardé et à bientôt.",
    ];

    private readonly TestFolder _folder = new("caption-translate-e2e-");
    private FakeRealtimeServer _server = null!;

    /// <summary>The fake's script: the three sentences, and their Spanish and French lines.</summary>
    internal static FakeScript Script() => FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>>
    {
        ["en"] = SpeechFixture.Sentences,
        ["es"] = Spanish,
        ["fr"] = French,
    });

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = Script() });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        _folder.Dispose();
    }

    private string TranscriptDir => _folder.Transcripts;

    private List<string> Args(string input, params string[] more) => _folder.SidecarArgs(_server, input, more);

    [Theory(Timeout = 180000)]
    [InlineData("text")]
    [InlineData("audio")]
    public async Task Run_SourceAndTwoTargets_EachLanguagesTranscriptAndOverlayFeedHoldItsOwnThreeLinesInOrder(string translateFrom)
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);

        // Played in real time, so the overlay clients are connected before the first sentence ends.
        await using var sidecar = SidecarProcess.Start(Args($"file:{wav}", "--languages", "es,fr", "--exit-at-end", "--translate-from", translateFrom));
        using var control = await SidecarControl.ConnectAsync(sidecar);
        var feeds = new[] { "en", "es", "fr" }.ToDictionary(l => l, l => CollectFeedAsync(control, l, ct));
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        AssertTranscript("en", SpeechFixture.Sentences);
        AssertTranscript("es", Spanish);
        AssertTranscript("fr", French);
        AssertFeedShowsInOrder(await feeds["en"], SpeechFixture.Sentences);
        AssertFeedShowsInOrder(await feeds["es"], Spanish);
        AssertFeedShowsInOrder(await feeds["fr"], French);

        // One transcription session and one conversation session per target, all closed at the end.
        Assert.Single(_server.Sessions, s => s.SessionType == FakeSessionType.Transcription);
        var es = Assert.Single(_server.Sessions, s => s.TargetLanguage == "es");
        var fr = Assert.Single(_server.Sessions, s => s.TargetLanguage == "fr");
        Assert.All(_server.Sessions, s => Assert.False(s.IsOpen));

        // From text, the audio is heard once, by the transcription; from audio, every target hears it too.
        Assert.All(new[] { es, fr }, s => Assert.Equal(translateFrom == "audio", s.ClientEventTypes.Contains("input_audio_buffer.append")));
    }

    [Fact(Timeout = 180000)]
    public async Task Run_LanguageEnabledMidStream_CaptionsFromTheNextTurnAndDisablingClosesItsSessionAndClearsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var turns = await SpeechFixture.SpeakTurnsAsync(_folder.Path, ct);
        await using var sidecar = SidecarProcess.Start(Args("stdin", "--input-rate", "24000", "--input-channels", "1"), redirectStdin: true);
        using (var control = await SidecarControl.ConnectAsync(sidecar))
        {
            using var en = await control.OpenFeedAsync("en", ct);
            await sidecar.WriteStdinAsync(turns[0], ct);
            await ReceiveUntilAsync(en, c => Finals(c).Contains("Welcome back", StringComparison.Ordinal), ct);

            // On: its session opens and it captions the next turn.
            var clock = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await control.SetLanguageAsync("es", true, ct)).StatusCode);
            using var es = await control.OpenFeedAsync("es", ct);
            await _server.WaitForSessionsAsync(s => s.Any(x => x.TargetLanguage == "es" && x.IsOpen), TimeSpan.FromSeconds(30));
            var sessionReady = clock.Elapsed;
            await sidecar.WriteStdinAsync(turns[1], ct);
            // Translated from the text of the turn it heard (the second sentence), so from the script's second row.
            await ReceiveUntilAsync(es, c => Finals(c).Contains("Hoy construimos", StringComparison.Ordinal), ct);
            var firstCaption = clock.Elapsed;
            // Kept for the issue note (a figure, not an assertion: timings on a shared machine are noisy).
            var artifacts = Directory.CreateDirectory(Path.Combine(SidecarProcess.RepoRoot, "artifacts", "translation")).FullName;
            await File.AppendAllTextAsync(Path.Combine(artifacts, "enable-to-caption.txt"), string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:O} enable -> session configured {sessionReady.TotalMilliseconds:F0} ms; enable -> first caption (next turn's audio sent at once) {firstCaption.TotalMilliseconds:F0} ms\n"), ct);

            // Off: the fake sees its session close, and its overlay captions are cleared.
            Assert.Equal(HttpStatusCode.OK, (await control.SetLanguageAsync("es", false, ct)).StatusCode);
            await _server.WaitForSessionsAsync(s => s.Where(x => x.TargetLanguage == "es").All(x => !x.IsOpen), TimeSpan.FromSeconds(30));
            await ReceiveUntilAsync(es, c => c.GetProperty("cleared").GetBoolean(), ct);

            // The source went on captioning throughout.
            await sidecar.WriteStdinAsync(turns[2], ct);
            await ReceiveUntilAsync(en, c => Finals(c).Contains("Thanks for watching", StringComparison.Ordinal), ct);
        }

        Assert.Single(_server.Sessions, s => s.TargetLanguage == "es");
        var esSrt = Assert.Single(Directory.GetFiles(TranscriptDir, "*-es.srt"));
        Assert.Equal(Spanish[1], SrtFile.JoinedText(SrtFile.Parse(await File.ReadAllTextAsync(esSrt, ct))));
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TwentyRapidToggles_EndInTheStateAskedLastWithoutExtraSessions()
    {
        var ct = TestContext.Current.CancellationToken;
        var turns = await SpeechFixture.SpeakTurnsAsync(_folder.Path, ct);
        await using var sidecar = SidecarProcess.Start(Args("stdin", "--input-rate", "24000", "--input-channels", "1"), redirectStdin: true);
        using (var control = await SidecarControl.ConnectAsync(sidecar))
        {
            var http = control.Http;
            // As fast as the API answers: on, off, on, ... the 20th asks for off.
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await control.SetLanguageAsync("fr", i % 2 == 0, ct)).StatusCode);
                Assert.True(RunningTracks(await StatusAsync(http, ct)).Count(l => l == "fr") <= 1);
            }

            Assert.DoesNotContain("fr", RunningTracks(await StatusAsync(http, ct)));
            Assert.DoesNotContain(Languages(await http.GetStringAsync("/api/languages", ct)), l => l.Code == "fr" && l.Enabled);
            await _server.WaitForSessionsAsync(s => s.Where(x => x.TargetLanguage == "fr").All(x => !x.IsOpen), TimeSpan.FromSeconds(30));

            // On once more: exactly one live session, and it captions.
            Assert.Equal(HttpStatusCode.OK, (await control.SetLanguageAsync("fr", true, ct)).StatusCode);
            using var fr = await control.OpenFeedAsync("fr", ct);
            await _server.WaitForSessionsAsync(s => s.Any(x => x.TargetLanguage == "fr" && x.IsOpen), TimeSpan.FromSeconds(30));
            await sidecar.WriteStdinAsync(turns[0], ct);
            await ReceiveUntilAsync(fr, c => Finals(c).Length > 0, ct);
            Assert.Single(_server.Sessions, s => s.TargetLanguage == "fr" && s.IsOpen);
            Assert.Single(RunningTracks(await StatusAsync(http, ct)), l => l == "fr");
        }

        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.All(_server.Sessions, s => Assert.False(s.IsOpen));
    }

    [Fact(Timeout = 180000)]
    public async Task Run_OneTargetSessionStalls_SourceAndOtherTargetKeepCaptioning()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        _server.Faults.StallLanguage("es");

        // A file played in real time behaves like a device: the stalled language's queue drops its oldest audio
        // instead of holding up the others.
        await using var sidecar = SidecarProcess.Start(Args($"file:{wav}", "--languages", "es,fr"));
        await Poll.UntilAsync(
            () => HasLines("en", 3) && HasLines("fr", 3),
            "en and fr captioned the three lines",
            ct,
            timeoutMs: 90000,
            intervalMs: 200,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);

        AssertTranscript("en", SpeechFixture.Sentences);
        AssertTranscript("fr", French);
        Assert.Empty(Directory.GetFiles(TranscriptDir, "*-es.srt"));

        // Shutting down does not wait on the stalled session for ever.
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(45), ct));
        _server.Faults.ResumeLanguage("es");
    }

    private bool HasLines(string language, int count) =>
        Directory.Exists(TranscriptDir)
        && Directory.GetFiles(TranscriptDir, $"*-{language}.srt") is [var srt]
        && SrtFile.Parse(ReadShared(srt)).Count >= count;

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private void AssertTranscript(string language, IReadOnlyList<string> lines)
    {
        var srt = Assert.Single(Directory.GetFiles(TranscriptDir, $"*-{language}.srt"));
        Assert.Equal(string.Join(' ', lines), SrtFile.JoinedText(SrtFile.Parse(ReadShared(srt))));
    }

    /// <summary>Each line's first words show up in the feed's final text, in the script's order.</summary>
    internal static void AssertFeedShowsInOrder(IReadOnlyList<string> finals, IReadOnlyList<string> lines)
    {
        var at = 0;
        foreach (var line in lines)
        {
            var start = string.Join(' ', line.Split(' ').Take(3));
            var index = finals.Skip(at).ToList().FindIndex(f => f.Contains(start, StringComparison.Ordinal));
            Assert.True(index >= 0, $"'{start}' not in the feed after update {at}:\n{string.Join('\n', finals)}");
            at += index;
        }
    }

    /// <summary>The final text of every update of <paramref name="language"/> until the feed closes (the sidecar exits).</summary>
    private static async Task<IReadOnlyList<string>> CollectFeedAsync(SidecarControl control, string language, CancellationToken ct)
    {
        var finals = new List<string>();
        using var socket = await control.OpenFeedAsync(language, ct);
        try
        {
            while (await ReceiveAsync(socket, ct) is { } caption)
            {
                finals.Add(Finals(caption));
            }
        }
        catch (WebSocketException)
        {
            // The sidecar exited without a close handshake.
        }

        return finals;
    }

    private static async Task ReceiveUntilAsync(ClientWebSocket socket, Func<JsonElement, bool> match, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (await ReceiveAsync(socket, timeout.Token) is { } caption)
        {
            if (match(caption))
            {
                return;
            }
        }

        Assert.Fail("The caption feed closed before the expected update.");
    }

    /// <summary>The next caption update, or null when the feed closed.</summary>
    private static async Task<JsonElement?> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        if (await SidecarControl.ReceiveTextAsync(socket, ct) is not { } text)
        {
            return null;
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    private static string Finals(JsonElement caption) =>
        string.Join(' ', caption.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("final").GetString()));

    private static async Task<JsonElement> StatusAsync(HttpClient http, CancellationToken ct)
    {
        using var status = JsonDocument.Parse(await http.GetStringAsync("/api/status", ct));
        return status.RootElement.Clone();
    }

    private static List<string> RunningTracks(JsonElement status) =>
        [.. status.GetProperty("tracks").EnumerateArray().Select(t => t.GetProperty("language").GetString()!)];

    private static List<(string Code, bool Enabled)> Languages(string json)
    {
        using var languages = JsonDocument.Parse(json);
        return [.. languages.RootElement.EnumerateArray().Select(l => (l.GetProperty("code").GetString()!, l.GetProperty("enabled").GetBoolean()))];
    }
}
