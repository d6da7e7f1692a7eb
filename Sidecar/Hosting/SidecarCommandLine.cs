using System.CommandLine;
using CaptionSidecar.Outputs;

namespace CaptionSidecar.Hosting;

/// <summary>
/// The command line. Every option maps onto a configuration key, so <c>appsettings.json</c>, environment variables
/// (<c>CAPTIONSIDECAR_Section__Key</c>) and the command line all bind to the same options classes; the command line
/// wins over the environment, which wins over the settings file.
/// </summary>
public static class SidecarCommandLine
{
    /// <summary>Process exit code for invalid configuration or usage.</summary>
    public const int ExitInvalidConfiguration = 2;

    /// <summary>Parses <paramref name="args"/> and runs the chosen command; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = Build();
        // The host's console lifetime handles Ctrl+C and SIGTERM (and drains the outputs); System.CommandLine must not.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>Builds the command tree (exposed for tests of parsing and mapping).</summary>
    internal static RootCommand Build()
    {
        var settings = Settings();
        var configFile = new Option<FileInfo?>("--config") { Description = "An extra JSON settings file (same shape as appsettings.json).", Recursive = true };

        var root = new RootCommand("CaptionSidecar: live captions for streams, from your audio to OBS and a browser overlay.");
        foreach (var s in settings)
        {
            root.Add(s.Option);
        }

        root.Add(configFile);
        root.Add(SpeakerOption());

        var run = new Command("run", "Run the sidecar (the default command).");
        root.Add(run);

        var obsCheck = new Command("obs-check", "Connect to OBS once, print its versions, current scene, text input kinds and caption sources, and exit (0 = OBS answered).");
        obsCheck.SetAction((parse, ct) => RunObsCheckAsync(ToConfiguration(parse, settings), parse.GetValue(configFile)?.FullName, ct));
        root.Add(obsCheck);

        var devices = new Command("devices", "List the audio inputs (* = default; 'monitor' on Linux, 'loopback' on Windows = what this computer plays) with the ids --input device:ID takes, and exit.");
        devices.SetAction((_, _) => Task.FromResult(ListDevices(Console.Out, Console.Error)));
        root.Add(devices);

        root.Add(RelayCommand.Build(settings, configFile));

        Func<ParseResult, CancellationToken, Task<int>> runAction = (parse, ct) =>
            SidecarHost.RunAsync(ToConfiguration(parse, settings), parse.GetValue(configFile)?.FullName, ct);
        root.SetAction(runAction);
        run.SetAction(runAction);
        return root;
    }

    /// <summary>Prints the audio inputs; 0 when they could be listed, 1 when not (the error says why).</summary>
    internal static int ListDevices(TextWriter output, TextWriter error)
    {
        try
        {
            output.WriteLine(Audio.AudioDevices.Format(Audio.AudioDevices.List()));
            output.WriteLine("Use one with --input device:ID (or a unique part of its id or description); --input default opens the one marked *.");
            return 0;
        }
        catch (Exception ex) when (ex is IOException or PlatformNotSupportedException)
        {
            error.WriteLine($"Cannot list audio inputs: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> RunObsCheckAsync(Dictionary<string, string?> commandLine, string? configFile, CancellationToken cancellationToken)
    {
        ObsOptions obs;
        try
        {
            obs = SidecarHost.BuildConfiguration(commandLine, configFile).GetSection(ObsOptions.Section).Get<ObsOptions>() ?? new ObsOptions();
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or FormatException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"Invalid configuration: {ex.Message}");
            return ExitInvalidConfiguration;
        }

        return await ObsCheck.RunAsync(obs, Console.Out, Console.Error, cancellationToken);
    }

    /// <summary>The configuration key/value pairs that the options given on the command line stand for.</summary>
    internal static Dictionary<string, string?> ToConfiguration(ParseResult parse, IReadOnlyList<CliSetting> settings)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in settings)
        {
            var result = parse.GetResult(s.Option);
            if (result is null || result.Implicit)
            {
                continue;
            }

            var raw = s.Option switch
            {
                Option<bool> flag => parse.GetValue(flag) ? "true" : "false",
                Option<string> text => parse.GetValue(text),
                _ => throw new InvalidOperationException($"Unexpected option type for {s.Option.Name}."),
            };
            values[s.ConfigurationKey] = s.Transform is null ? raw : s.Transform(raw);
        }

        AddSpeakers(parse, values);
        return values;
    }

    /// <summary><c>--speaker NAME=INPUT</c>, repeatable: one speaker each, in order (<c>Speakers:i:Name</c>, <c>Speakers:i:Input</c>).</summary>
    internal static Option<string[]> SpeakerOption() => new(SpeakerOptionName)
    {
        Description = "A named speaker and their audio input (repeatable): NAME=INPUT, INPUT as --input takes it, e.g. --speaker Alice=default --speaker Bob=device:usb-mic. Language, colour and an OBS mute source per speaker go in the Speakers settings list.",
        HelpName = "NAME=INPUT",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    private const string SpeakerOptionName = "--speaker";

    private static void AddSpeakers(ParseResult parse, Dictionary<string, string?> values)
    {
        var option = parse.RootCommandResult.Command.Options.OfType<Option<string[]>>().FirstOrDefault(o => o.Name == SpeakerOptionName);
        if (option is null || parse.GetResult(option) is not { Implicit: false })
        {
            return;
        }

        var speakers = parse.GetValue(option) ?? [];
        for (var i = 0; i < speakers.Length; i++)
        {
            var value = speakers[i];
            var split = value.IndexOf('=', StringComparison.Ordinal);

            // A value without '=' keeps its whole text as the name; the speaker validation says what is missing.
            values[$"Speakers:{i}:Name"] = split < 0 ? value : value[..split];
            values[$"Speakers:{i}:Input"] = split < 0 ? null : value[(split + 1)..];
        }
    }

    /// <summary>One command-line option and the configuration key it sets.</summary>
    internal sealed record CliSetting(Option Option, string ConfigurationKey, Func<string?, string?>? Transform = null);

    internal static IReadOnlyList<CliSetting> Settings()
    {
        static Option<string> Text(string name, string description, string? helpName = null) =>
            new(name) { Description = description, HelpName = helpName, Recursive = true };
        static Option<bool> Flag(string name, string description) =>
            new(name) { Description = description, Recursive = true };

        return
        [
            new(Text("--input", "Audio input: default | device:NAME | file:PATH (WAV) | stdin (raw s16le) | cmd:\"COMMAND\" (stdout raw s16le) | process:NAME (what one program plays; Windows 10 2004+).", "SPEC"), "Audio:Input"),
            new(Text("--input-rate", "Sample rate of raw s16le input (stdin, cmd:). Default 48000.", "HZ"), "Audio:InputRate"),
            new(Text("--input-channels", "Channel count of raw s16le input (stdin, cmd:). Default 1.", "N"), "Audio:InputChannels"),
            new(Text("--chunk-ms", "Milliseconds of audio per chunk sent to the sessions. Default 20.", "MS"), "Audio:ChunkMilliseconds"),
            new(Flag("--no-pacing", "Feed file input as fast as the sessions accept it instead of in real time."), "Audio:NoPacing"),
            new(Flag("--no-voice-gate", "Send all audio to the sessions, silence included (the local voice gate is on by default)."), "Audio:VoiceGate:Enabled", v => v == "true" ? "false" : "true"),
            new(Text("--engine", "openai | test-pattern. Default: openai when an API key is set, else test-pattern.", "ENGINE"), "Sidecar:Engine"),
            new(Flag("--exit-at-end", "With file or stdin input: finish the last caption, flush, and exit 0 when the input ends."), "Sidecar:ExitAtEnd"),
            new(Text("--data-dir", "Per-user data folder (logs, control token, language choice). Default: the OS per-user app data folder.", "DIR"), "Sidecar:DataDirectory"),
            new(Text("--realtime-endpoint", "Realtime API root, e.g. https://api.openai.com/v1 (default), an Azure OpenAI .../openai/v1, or a compatible server.", "URL"), "Realtime:Endpoint"),
            new(Text("--api-key", "API key (prefer the OPENAI_API_KEY environment variable: command lines are visible to other processes).", "KEY"), "Realtime:ApiKey"),
            new(Text("--transcribe-model", "Transcription model. Default gpt-4o-transcribe.", "MODEL"), "Realtime:TranscribeModel"),
            new(Text("--language", "Source language (ISO 639-1), a hint for transcription and the source caption language. Default en.", "CODE"), "Realtime:Language"),
            new(Text("--prompt", "Vocabulary hint for transcription: names, game terms (at most 1024 characters).", "TEXT"), "Realtime:Prompt"),
            new(Text("--glossary", "Glossary file: a term per line, optionally '| es: translation' per language; re-read when it changes.", "FILE"), "Realtime:GlossaryFile"),
            new(Text("--turn-detection", "semantic-vad (default) | server-vad | manual.", "MODE"), "Realtime:TurnDetection", v => v?.Replace("-", string.Empty, StringComparison.Ordinal)),
            new(Text("--languages", "Translation targets on at start, comma-separated (for example es,fr; empty for none). Without it, the last choice is restored.", "CODES"), "Languages:Enabled"),
            new(Text("--translate-model", "Realtime model of the translations that hear audio (--translate-from audio). Default gpt-realtime.", "MODEL"), "Realtime:TranslateModel"),
            new(Text("--translate-from", "text (default: translate each source line's final text; audio is heard once) | audio (every language hears the audio).", "FROM"), "Realtime:TranslateFrom"),
            new(Text("--text-translate-model", "Realtime model of the text translations. Default gpt-realtime-mini.", "MODEL"), "Realtime:TextTranslateModel"),
            new(Text("--translation-lag", "Seconds a text translation may lag its source line before it is skipped (counted) rather than shown late. Default 10.", "SECONDS"), "Realtime:TranslationLagSeconds"),
            new(Text("--transcript-dir", "Folder for .srt, .vtt and .jsonl transcripts per language.", "DIR"), "Captions:TranscriptDirectory"),
            new(Text("--max-lines", "Caption lines at most. Default 2.", "N"), "Captions:MaxLines"),
            new(Text("--max-chars", "Characters per caption line at most. Default 42.", "N"), "Captions:MaxCharactersPerLine"),
            new(Text("--clear-after", "Seconds of silence after which captions clear (0 = never). Default 5.", "SECONDS"), "Captions:ClearAfterSeconds"),
            new(Text("--obs-url", "obs-websocket server. Default ws://127.0.0.1:4455.", "URL"), "Obs:Url"),
            new(Text("--obs-password", "obs-websocket password (prefer the OBS_WEBSOCKET_PASSWORD environment variable).", "PASSWORD"), "Obs:Password"),
            new(Text("--obs-scene", "Scene in which missing caption sources are created. Default: the current program scene.", "SCENE"), "Obs:Scene"),
            new(Text("--obs-source-template", "Name of the caption text source per language; {lang} is the language code. Default 'Captions ({lang})'.", "TEMPLATE"), "Obs:SourceTemplate"),
            new(Text("--obs-speaker-source-template", "With named speakers, also a text source per speaker and language showing only their lines; contains {speaker} and {lang}, e.g. 'Captions ({lang}) {speaker}'. Off by default.", "TEMPLATE"), "Obs:SpeakerSourceTemplate"),
            new(Text("--obs-native-captions", "Language whose finished lines also go into the stream as native (CEA-608) captions.", "LANG"), "Obs:NativeCaptions"),
            new(Text("--obs-mute-source", "OBS input (your mic) whose mute pauses captioning: while it is muted no audio goes to the sessions.", "NAME"), "Obs:MuteSource"),
            new(Flag("--no-obs", "Do not connect to OBS."), "Obs:Enabled", v => v == "true" ? "false" : "true"),
            new(Text("--relay", "Publish the captions to NATS for viewer relays (docs/relay.md): nats://[USER:PASSWORD@]HOST:PORT, or tls://... (prefer the password in CAPTIONSIDECAR_Relay__Password). Off by default.", "URL"), "Relay:Url"),
            new(Text("--relay-stream", "The stream's name on NATS, which viewers give in the page's address: letters, digits, dashes. Default: this machine's name.", "NAME"), "Relay:Stream"),
            new(Text("--youtube-captions", "Post finished lines to YouTube Live: the ingestion URL from YouTube Studio (stream settings, 'Post captions to URL'). A secret: never logged. Off by default; also settable from the control page.", "URL"), "Outputs:YouTube:Url"),
            new(Text("--youtube-language", "The caption language posted to YouTube. Default: the spoken language.", "LANG"), "Outputs:YouTube:Language"),
            new(Text("--youtube-offset", "Seconds added to the time of each line posted to YouTube: the stream's delay. Default 0.", "SECONDS"), "Outputs:YouTube:OffsetSeconds"),
            new(Text("--http-port", "Port of the overlay, control page and control API on localhost. Default 4470 (0 = any free port).", "PORT"), "Http:Port"),
            new(Text("--http-bind", "Listen on this address instead of localhost (a LAN): anyone there can read the captions.", "ADDRESS"), "Http:Bind"),
            new(Text("--log-level", "Minimum log level: Verbose | Debug | Information (default) | Warning | Error.", "LEVEL"), "Serilog:MinimumLevel:Default"),
        ];
    }
}
