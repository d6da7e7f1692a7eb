using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The sidecar's own HTTP server as a process: overlay feed, control API with its token, Host guard.</summary>
[Trait("Category", "Integration")]
public sealed partial class ControlEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-control-e2e-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 120000)]
    public async Task Run_TestPattern_OverlayFeedCarriesCaptionsAndTheApiTogglesTheLanguage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var sidecar = SidecarProcess.Start(["--engine", "test-pattern", "--no-obs", "--http-port", "0", "--data-dir", _folder.Data]);
        await sidecar.WaitForStderrAsync("Control page", 1, TimeSpan.FromSeconds(30));
        var control = SidecarControl.ControlUrl().Match(sidecar.Stderr);
        Assert.True(control.Success, sidecar.Stderr);
        var port = int.Parse(control.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
        var token = control.Groups["token"].Value;
        Assert.Equal(43, token.Length); // 256 bits, base64url
        var tokenFile = Assert.Single(Directory.GetFiles(Path.Combine(_folder.Path, "data", "control")));
        Assert.DoesNotContain(token, string.Join('\n', Directory.GetFiles(Path.Combine(_folder.Path, "data", "logs")).Select(File.ReadAllText)), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal("ok", (await http.GetStringAsync("/healthz", ct)).Trim());
        using (var status = JsonDocument.Parse(await http.GetStringAsync("/api/status", ct)))
        {
            Assert.Equal("test-pattern", status.RootElement.GetProperty("engine").GetString());
        }

        // The live feed carries the test pattern's captions.
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws/captions?lang=en"), ct);
        var seen = await ReceiveUntilAsync(socket, m => m.Contains("[TEST]", StringComparison.Ordinal), ct);
        Assert.Contains("\"language\":\"en\"", seen, StringComparison.Ordinal);
        using (var status = JsonDocument.Parse(await http.GetStringAsync("/api/status", ct)))
        {
            // The sidecar's own document, passed through by the overlay library: what the control page reads.
            var track = status.RootElement.GetProperty("tracks").EnumerateArray().Single();
            Assert.Equal("en", track.GetProperty("language").GetString());
            Assert.Matches("^[a-z]+$", track.GetProperty("sessionState").GetString());
            Assert.Equal(JsonValueKind.Array, status.RootElement.GetProperty("recentErrors").ValueKind);
            Assert.Contains(status.RootElement.GetProperty("outputs").EnumerateArray(), o => o.GetProperty("sink").GetString() is { Length: > 0 });
            Assert.Equal("off", status.RootElement.GetProperty("obsState").GetString());
        }


        // Changing state needs the token; with it the language goes off and its captions are cleared.
        using var body = new StringContent("{\"enabled\":false}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PutAsync("/api/languages/en", body, ct)).StatusCode);
        using var put = new HttpRequestMessage(HttpMethod.Put, "/api/languages/en") { Content = new StringContent("{\"enabled\":false}", Encoding.UTF8, "application/json") };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(put, ct)).StatusCode);
        await ReceiveUntilAsync(socket, m => m.Contains("\"cleared\":true", StringComparison.Ordinal), ct);
        using (var languages = JsonDocument.Parse(await http.GetStringAsync("/api/languages", ct)))
        {
            Assert.False(languages.RootElement[0].GetProperty("enabled").GetBoolean());
        }

        using var wrongHost = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        wrongHost.Headers.Host = "attacker.example";
        Assert.NotEqual(HttpStatusCode.OK, (await http.SendAsync(wrongHost, ct)).StatusCode);

        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.DoesNotContain(token, sidecar.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TestPatternWithLanguages_EveryEnabledLanguageCaptionsTogglesApplyLiveAndTheChoiceSurvivesARestart()
    {
        var ct = TestContext.Current.CancellationToken;
        var data = _folder.Data;
        var transcripts = _folder.Transcripts;
        string[] common = ["--engine", "test-pattern", "--no-obs", "--http-port", "0", "--data-dir", data, "--transcript-dir", transcripts];
        await using (var sidecar = SidecarProcess.Start([.. common, "--languages", "es,fr"]))
        {
            using (var control = await SidecarControl.ConnectAsync(sidecar))
            {
                var http = control.Http;
                // Source and both targets caption at once, each in its own language (final text, so transcripts get it too).
                using var es = await control.OpenFeedAsync("es", ct);
                using var fr = await control.OpenFeedAsync("fr", ct);
                await ReceiveUntilAsync(es, m => HasFinalText(m, "es"), ct);
                await ReceiveUntilAsync(fr, m => HasFinalText(m, "fr"), ct);
                Assert.Equal(["en", "es", "fr"], Codes(await http.GetStringAsync("/api/languages", ct), enabledOnly: true));

                // Off: its track stops and its overlay captions are cleared; on: a new language starts without a restart.
                Assert.Equal(HttpStatusCode.OK, (await control.SetLanguageAsync("fr", false, ct)).StatusCode);
                await ReceiveUntilAsync(fr, m => m.Contains("\"cleared\":true", StringComparison.Ordinal), ct);
                Assert.Equal(HttpStatusCode.OK, (await control.SetLanguageAsync("de", true, ct)).StatusCode);
                using var de = await control.OpenFeedAsync("de", ct);
                await ReceiveUntilAsync(de, m => HasFinalText(m, "de"), ct);
                Assert.Equal(HttpStatusCode.NotFound, (await control.SetLanguageAsync("xx", true, ct)).StatusCode);

                using var status = JsonDocument.Parse(await http.GetStringAsync("/api/status", ct));
                var running = status.RootElement.GetProperty("tracks").EnumerateArray().Select(t => t.GetProperty("language").GetString()).Order().ToList();
                Assert.Equal(["de", "en", "es"], running);
                var costs = status.RootElement.GetProperty("costs");
                Assert.Equal("USD", costs.GetProperty("currency").GetString());
                Assert.Equal(0m, costs.GetProperty("total").GetDecimal()); // the test pattern costs nothing
            }

            sidecar.Interrupt();
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        }

        // Each language had its own transcript.
        foreach (var code in new[] { "en", "es", "fr", "de" })
        {
            Assert.Contains(Directory.GetFiles(transcripts), f => Path.GetFileName(f).EndsWith($"-{code}.srt", StringComparison.Ordinal));
        }

        // Without --languages the moderators' last choice comes back.
        await using (var again = SidecarProcess.Start(common))
        {
            using (var control = await SidecarControl.ConnectAsync(again))
            {
                Assert.Equal(["en", "es", "de"], Codes(await control.Http.GetStringAsync("/api/languages", ct), enabledOnly: true));
            }

            again.Interrupt();
            Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        }
    }

    /// <summary>An update of <paramref name="language"/> showing final text (the test pattern's lines are in that language; English ones would show "This", "No speech").</summary>
    private static bool HasFinalText(string message, string language) =>
        message.Contains($"\"language\":\"{language}\"", StringComparison.Ordinal) && FinalText().IsMatch(message)
        && !message.Contains("\"final\":\"[TEST] This", StringComparison.Ordinal);

    private static List<string> Codes(string languagesJson, bool enabledOnly)
    {
        using var languages = JsonDocument.Parse(languagesJson);
        return [.. languages.RootElement.EnumerateArray()
            .Where(l => !enabledOnly || l.GetProperty("enabled").GetBoolean())
            .Select(l => l.GetProperty("code").GetString()!)];
    }

    private static async Task<string> ReceiveUntilAsync(ClientWebSocket socket, Func<string, bool> match, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            var text = await SidecarControl.ReceiveTextAsync(socket, timeout.Token);
            Assert.NotNull(text); // the feed closed
            if (match(text))
            {
                return text;
            }
        }
    }

    [GeneratedRegex("\"final\":\"[^\"]")]
    private static partial Regex FinalText();

}
