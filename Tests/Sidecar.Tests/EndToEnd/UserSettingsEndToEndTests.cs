using System.Text.Json;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The per-user settings.json as a streamer meets it: written on the first start, said where, read, and a broken one named.</summary>
[Trait("Category", "Integration")]
public sealed class UserSettingsEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-settings-e2e-");

    private string SettingsPath => Path.Combine(_folder.Data, "settings.json");

    public void Dispose() => _folder.Dispose();

    private SidecarProcess Start(params string[] more) =>
        SidecarProcess.Start(["--engine", "test-pattern", "--no-obs", "--http-port", "0", "--data-dir", _folder.Data, .. more]);

    [Fact(Timeout = 120000)]
    public async Task Run_FirstStart_WritesTheSettingsFileAndSaysWhereInTheConsoleAndTheLog()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var sidecar = Start();
        await sidecar.WaitForStderrAsync("Control page", 1, TimeSpan.FromSeconds(30));
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));

        Assert.Contains($"Settings file: {SettingsPath} (new:", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Contains("Overlay (OBS Browser Source): http://localhost:", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"ApiKey\": \"\"", await File.ReadAllTextAsync(SettingsPath, ct), StringComparison.Ordinal);
        var log = string.Join('\n', Directory.GetFiles(Path.Combine(_folder.Data, "logs")).Select(File.ReadAllText));
        Assert.Contains($"Settings file: {SettingsPath}", log, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_LanguageInTheSettingsFile_BeatsTheExesDefault_AndTheCommandLineBeatsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(_folder.Data);
        await File.WriteAllTextAsync(SettingsPath, """
            {
              // Spoken language: Japanese (appsettings.json says en)
              "Realtime": { "Language": "ja" },
            }
            """, ct);

        Assert.Equal("ja", await SourceLanguageAsync([], ct));
        Assert.Equal("es", await SourceLanguageAsync(["--language", "es"], ct));
    }

    [Fact(Timeout = 120000)]
    public async Task Run_InvalidSettingsFile_ExitsAtOnceWithCode2NamingTheFileAndLine()
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(_folder.Data);
        await File.WriteAllTextAsync(SettingsPath, "{\n  \"Obs\": { \"Password\": \"secret\" \n  \"Http\": {}\n}\n", ct);

        await using var sidecar = Start();

        Assert.Equal(2, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.Contains($"Settings file '{SettingsPath}' is not valid JSON at line 3", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Press Enter", sidecar.Stderr, StringComparison.Ordinal);
    }

    private async Task<string?> SourceLanguageAsync(string[] more, CancellationToken ct)
    {
        await using var sidecar = Start(more);
        using var control = await SidecarControl.ConnectAsync(sidecar);
        using var languages = JsonDocument.Parse(await control.Http.GetStringAsync("/api/languages", ct));
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        return languages.RootElement.EnumerateArray().Single(l => l.GetProperty("source").GetBoolean()).GetProperty("code").GetString();
    }
}
