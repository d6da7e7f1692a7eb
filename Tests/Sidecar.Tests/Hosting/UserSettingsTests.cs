using CaptionSidecar.Hosting;
using Microsoft.Extensions.Configuration;

namespace CaptionSidecar.Tests.Hosting;

/// <summary>The per-user settings.json: written on the first start, read between the exe's defaults and the overrides.</summary>
public sealed class UserSettingsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("caption-user-settings-").FullName;

    private string Data => Path.Combine(_root, "data");

    private string SettingsPath => Path.Combine(Data, UserSettings.FileName);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Dictionary<string, string?> CommandLine(params (string Key, string Value)[] more)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Sidecar:DataDirectory"] = Data };
        foreach (var (key, value) in more)
        {
            values[key] = value;
        }

        return values;
    }

    private (ConfigurationManager Configuration, UserSettingsFile File) Load(Dictionary<string, string?> commandLine, string? configFile = null, bool create = true)
    {
        var configuration = new ConfigurationManager();
        var file = SidecarHost.AddConfiguration(configuration, commandLine, configFile, create);
        return (configuration, file);
    }

    [Fact]
    public void AddConfiguration_FirstStart_WritesTheTemplateIntoTheDataFolder_OnceOnly()
    {
        var (_, first) = Load(CommandLine());
        File.AppendAllText(SettingsPath, "// the streamer's edit\n");
        var (_, second) = Load(CommandLine());

        Assert.Equal(new UserSettingsFile(SettingsPath, Created: true), first);
        Assert.Equal(new UserSettingsFile(SettingsPath, Created: false), second);
        Assert.Equal(UserSettings.Template().ReplaceLineEndings() + "// the streamer's edit\n", File.ReadAllText(SettingsPath));
    }

    [Fact]
    public void AddConfiguration_CommandWithoutHost_ReadsButNeverWritesTheFile()
    {
        var (_, file) = Load(CommandLine(), create: false);

        Assert.False(file.Created);
        Assert.False(File.Exists(SettingsPath));
    }

    [Fact]
    public void Template_WrittenOnFirstStart_ChangesNoSettingFromTheBuiltInOnes()
    {
        var (without, _) = Load(CommandLine(), create: false);
        var (with, file) = Load(CommandLine());
        var inFile = new ConfigurationBuilder().AddJsonFile(file.Path).Build().AsEnumerable().Where(p => p.Value is not null).ToList();
        var text = File.ReadAllText(file.Path);

        // Only the secrets are set, empty (none configured): everything else keeps coming from appsettings.json beside
        // the exe (which an administrator may have edited) until the streamer removes the // before it.
        Assert.Equal(["Obs:Password", "Realtime:ApiKey"], inFile.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.All(inFile, p => Assert.Equal(string.Empty, p.Value));
        Assert.All(inFile, p => Assert.Equal(without[p.Key] ?? string.Empty, with[p.Key] ?? string.Empty));
        Assert.Contains("// Your OpenAI API key", text, StringComparison.Ordinal);

        // The settings a streamer changes are shown (so they need not be looked up), commented out at their defaults.
        foreach (var (key, value) in Defaults)
        {
            var name = key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..];
            var shown = value is "True" or "False" ? value.ToLowerInvariant() : value.All(char.IsAsciiDigit) ? value : $"\"{value}\"";
            Assert.Contains($"// \"{name}\": {shown},", text, StringComparison.Ordinal);
            Assert.Equal(without[key], with[key]);
        }
    }

    /// <summary>
    /// The built-in values of what appsettings.json (absent from the test folder) sets, and the options' defaults:
    /// the template must show them.
    /// </summary>
    private static readonly Dictionary<string, string> Defaults = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Realtime:Language"] = "en",
        ["Audio:Input"] = "default",
        ["Languages:Available"] = CaptionSidecar.Languages.LanguageOptions.DefaultAvailable,
        ["Obs:Enabled"] = new CaptionSidecar.Outputs.ObsOptions().Enabled.ToString(), // "True", as the JSON provider reads true
        ["Http:Port"] = new CaptionSidecar.Control.HttpOptions().Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public void AddConfiguration_SettingsFile_LosesToConfigFileAndCommandLine()
    {
        Directory.CreateDirectory(Data);
        File.WriteAllText(SettingsPath, """
            // a streamer's file, comments and a trailing comma included
            {
              "Audio": { "Input": "device:from-settings" },
              "Realtime": { "Language": "ja", },
              "Http": { "Port": 5001 },
            }
            """);
        var configFile = Path.Combine(_root, "extra.json");
        File.WriteAllText(configFile, """{ "Realtime": { "Language": "es" } }""");

        var (settingsOnly, file) = Load(CommandLine());
        var (overridden, _) = Load(CommandLine(("Http:Port", "6002")), configFile);

        Assert.False(file.Created);
        Assert.Equal(("device:from-settings", "ja", "5001"), (settingsOnly["Audio:Input"], settingsOnly["Realtime:Language"], settingsOnly["Http:Port"]));
        Assert.Equal(("device:from-settings", "es", "6002"), (overridden["Audio:Input"], overridden["Realtime:Language"], overridden["Http:Port"]));
    }

    [Fact]
    public void AddConfiguration_DataDirectoryFromTheCommandLine_DecidesWhereTheFileIs()
    {
        var elsewhere = Path.Combine(_root, "elsewhere");

        var (_, file) = Load(CommandLine(("Sidecar:DataDirectory", elsewhere)));

        Assert.Equal(Path.Combine(elsewhere, UserSettings.FileName), file.Path);
        Assert.True(File.Exists(file.Path));
        Assert.False(File.Exists(SettingsPath));
    }

    [Theory]
    [InlineData("{\n  \"Audio\": {\n    \"Input\": \"default\"\n    \"ChunkMilliseconds\": 20\n  }\n}", "line 4")]
    [InlineData("{\n  \"Obs\": { \"Password\": \"C:\\path\" }\n}", "line 2")]
    [InlineData("{ \"Audio\": { \"Input\": \"default\" }", "line 1")]
    [InlineData("[ \"Audio\" ]", "one { ... } object, not a array")]
    public void AddConfiguration_InvalidSettingsFile_FailsNamingTheFileAndTheProblem(string content, string expected)
    {
        Directory.CreateDirectory(Data);
        File.WriteAllText(SettingsPath, content);

        var error = Assert.Throws<InvalidDataException>(() => Load(CommandLine()));

        Assert.Contains($"Settings file '{SettingsPath}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("delete it to get a fresh one", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", error.Message, StringComparison.Ordinal); // said once, counted from 1
        Assert.Equal(content, File.ReadAllText(SettingsPath));
    }

    [Fact]
    public void CreateIfMissing_FileAppearedMeanwhile_LeavesItAlone()
    {
        Directory.CreateDirectory(Data);
        File.WriteAllText(SettingsPath, "{}");

        Assert.False(UserSettings.CreateIfMissing(SettingsPath));
        Assert.Equal("{}", File.ReadAllText(SettingsPath));
    }
}
