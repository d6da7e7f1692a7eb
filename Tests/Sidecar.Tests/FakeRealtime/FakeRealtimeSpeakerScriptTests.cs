using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>Several transcription sessions at once, each speaker with its own script (<see cref="FakeRealtimeOptions.SpeakerScripts"/>).</summary>
public sealed class FakeRealtimeSpeakerScriptTests : IAsyncLifetime
{
    private static readonly string[] Shared = ["Shared line one.", "Shared line two."];
    private static readonly string[] Host = ["Welcome back, everyone.", "Our guest today is Ana."];
    private static readonly string[] GuestSpanish = ["Hola a todos.", "Gracias por invitarme."];
    private static readonly string[] GuestEnglish = ["Hello everyone.", "Thanks for having me."];
    private static readonly string[] Commentator = ["And the round begins."];
    private static readonly string[] Doctor = ["Thanks, I am glad to be here.", "Let me explain the study.", "That is all for today."];

    private readonly FakeScript _shared = FakeScript.FromLines(Shared);
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        var guest = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["es"] = GuestSpanish, ["en"] = GuestEnglish });
        _server = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions
            {
                Script = _shared,
                SpeakerScripts = new Dictionary<string, FakeScript>
                {
                    ["host"] = FakeScript.FromLines(Host),
                    ["guest"] = guest,
                    ["de"] = FakeScript.FromLines(Commentator),
                    ["Dr. Ana-Maria_2"] = FakeScript.FromLines(Doctor),
                },
                WordDelay = TimeSpan.FromMilliseconds(2),
                SessionLifetime = null,
            },
            TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Assert.Empty(_server.SchemaViolations);
    }

    [Fact(Timeout = 30000)]
    public async Task TwoTranscriptionSessions_SpeakerMarkersInPrompt_EachGetsItsOwnLinesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ConnectTranscriptionAsync(_server, "en", "[speaker:Host] Gaming stream, names: Ana.", ct);
        await using var guest = await ConnectTranscriptionAsync(_server, "es", "[speaker:guest]", ct);

        // Turns alternate between the speakers; each speaker's script keeps its own position.
        var hostLines = new List<string>();
        var guestLines = new List<string>();
        for (var turn = 0; turn < 2; turn++)
        {
            hostLines.Add(await SpeakOneTurnAsync(host, ct));
            guestLines.Add(await SpeakOneTurnAsync(guest, ct));
        }

        Assert.Equal(Host, hostLines);
        Assert.Equal(GuestSpanish, guestLines);
        Assert.Equal(0, _shared.TurnsTaken);
        var sessions = _server.Sessions;
        Assert.Equal(["host", "guest"], sessions.Select(s => s.Speaker));
        Assert.All(sessions, s => Assert.Empty(s.ErrorsSent));
    }

    [Theory(Timeout = 30000)]
    [InlineData("Gaming stream, names: Ana.\nSpeaker: Dr. Ana-Maria_2.", "Dr. Ana-Maria_2")]
    [InlineData("Speaker: host.", "host")]
    [InlineData("Names: Ana.\r\nspeaker:  Dr. Ana-Maria_2 .\n", "Dr. Ana-Maria_2")]
    public async Task SpeakerLineEndingThePrompt_PicksThatSpeakersScript(string prompt, string key)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTranscriptionAsync(_server, "en", prompt, ct);

        var line = await SpeakOneTurnAsync(client, ct);

        Assert.Equal(key == "host" ? Host[0] : Doctor[0], line);
        Assert.Equal(key, Assert.Single(_server.Sessions).Speaker);
        Assert.Equal(0, _shared.TurnsTaken);
    }

    [Theory(Timeout = 30000)]
    [InlineData("Speaker: host.\nMore prompt after the line.")]
    [InlineData("Speaker: host")]
    [InlineData("Speaker: host!.")]
    [InlineData("The speaker: host is not a line of its own.")]
    public async Task SpeakerLineNotEndingThePromptOrMalformed_SharedScript(string prompt)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTranscriptionAsync(_server, "en", prompt, ct);

        Assert.Equal(Shared[0], await SpeakOneTurnAsync(client, ct));
        Assert.Null(Assert.Single(_server.Sessions).Speaker);
    }

    [Fact(Timeout = 30000)]
    public async Task ThreeTranscriptionSessionsAtOnce_SpeakerLines_EachFollowsItsOwnSpeakersScript()
    {
        var ct = TestContext.Current.CancellationToken;
        var speakers = new[] { ("host", "en", Host), ("guest", "es", GuestSpanish), ("Dr. Ana-Maria_2", "en", Doctor) };
        var clients = new List<RealtimeTestClient>();
        try
        {
            foreach (var (name, language, _) in speakers)
            {
                clients.Add(await ConnectTranscriptionAsync(_server, language, $"Podcast about science. Names: Ana.\nSpeaker: {name}.", ct));
            }

            // All three speak at the same time, turn after turn; each script keeps its own position.
            var heard = await Task.WhenAll(clients.Select(async client =>
            {
                var lines = new List<string>();
                for (var turn = 0; turn < 2; turn++)
                {
                    lines.Add(await SpeakOneTurnAsync(client, ct));
                }

                return lines;
            }));

            for (var i = 0; i < speakers.Length; i++)
            {
                Assert.Equal(speakers[i].Item3.Take(2), heard[i]);
            }

            Assert.Equal(speakers.Select(s => s.Item1), _server.Sessions.Select(s => s.Speaker));
            Assert.Equal(0, _shared.TurnsTaken);
            Assert.All(_server.Sessions, s => Assert.Empty(s.ErrorsSent));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task NoMarker_LanguageKeyPicksTheScript_OtherwiseTheSharedScript()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var german = await ConnectTranscriptionAsync(_server, "de", "Esports commentary.", ct);
        await using var unknown = await ConnectTranscriptionAsync(_server, "en", "[speaker:nobody] A marker naming no speaker.", ct);

        Assert.Equal(Commentator[0], await SpeakOneTurnAsync(german, ct));
        Assert.Equal(Shared[0], await SpeakOneTurnAsync(unknown, ct));

        Assert.Equal(["de", null], _server.Sessions.Select(s => s.Speaker));
    }

    [Fact(Timeout = 30000)]
    public async Task GuestsLineAsText_TranslatedFromTheGuestsScriptRow()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await ConnectTranscriptionAsync(_server, "es", "[speaker:guest]", ct);
        var spoken = await SpeakOneTurnAsync(guest, ct);

        await using var english = await FakeRealtimeTextTranslationTests.ConnectTextSessionAsync(_server, "Translate into English (en). Output only the translation.", ct);
        var item = await FakeRealtimeTextTranslationTests.CreateItemAsync(english, "user", spoken, ct);
        await english.SendAsync(new JsonObject
        {
            ["type"] = "response.create",
            ["response"] = new JsonObject
            {
                ["conversation"] = "none",
                ["output_modalities"] = new JsonArray("text"),
                ["input"] = new JsonArray(new JsonObject { ["type"] = "item_reference", ["id"] = item }),
                ["metadata"] = new JsonObject { ["lang"] = "en", ["speaker"] = "guest" },
            },
        }, ct);
        var done = (await english.ReceiveUntilAsync("response.done", ct))[^1]["response"]!;

        Assert.Equal(GuestEnglish[0], done["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("guest", done["metadata"]!["speaker"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a]b")]
    [InlineData(" padded")]
    public async Task SpeakerScripts_UnusableKey_RefusedAtStartWithTheKeyNamed(string key)
    {
        var options = new FakeRealtimeOptions { SpeakerScripts = new Dictionary<string, FakeScript> { [key] = FakeScript.FromLines(Host) } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => FakeRealtimeServer.StartAsync(options, TestContext.Current.CancellationToken));

        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
    }

    private static async Task<RealtimeTestClient> ConnectTranscriptionAsync(FakeRealtimeServer server, string language, string prompt, CancellationToken ct)
    {
        var client = await RealtimeTestClient.ConnectAsync(server, ct);
        Assert.Equal("session.created", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        await client.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject
            {
                ["type"] = "transcription",
                ["audio"] = new JsonObject
                {
                    ["input"] = new JsonObject
                    {
                        ["transcription"] = new JsonObject { ["model"] = "gpt-4o-transcribe", ["language"] = language, ["prompt"] = prompt },
                    },
                },
            },
        }, ct);
        Assert.Equal("session.updated", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        return client;
    }

    /// <summary>One VAD turn of tone; returns its completed transcript.</summary>
    private static async Task<string> SpeakOneTurnAsync(RealtimeTestClient client, CancellationToken ct)
    {
        await client.AppendAudioAsync(Pcm16.Concat(Pcm16.Silence(300), Pcm16.Tone(600), Pcm16.Silence(1000)), ct);
        var completed = (await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct))[^1];
        return completed["transcript"]!.GetValue<string>();
    }
}
