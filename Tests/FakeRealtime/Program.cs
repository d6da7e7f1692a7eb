using System.Globalization;
using System.Runtime.InteropServices;
using CaptionSidecar.FakeRealtime;

// Standalone fake Realtime server:
//   dotnet run --project Tests/FakeRealtime -- --port 8089 --script lines.txt [--api-key KEY] [--lifetime-seconds N]
// Hostile modes: --refuse-upgrades 429[:SECONDS]|500|STATUS|hangup (every upgrade answered with that HTTP error,
// Retry-After SECONDS for 429, or its connection closed without an answer), --close-after-session-created (every session closes right after session.created),
// --oversized-message-bytes N (each turn's transcription starts with one delta message of N bytes),
// --hostile-text delta-flood|huge-text|unknown-items (text for items never committed, huge deltas, text for unknown items).
// The script is one caption line per line, or columns: a header "en<TAB>es<TAB>fr" (source first) and tab-separated
// lines; conversation sessions answer from the column named by "[lang:xx]" or "into xx" in their instructions; a user
// text item is answered with the cell of that column in the row whose source cell is the text ("[xx] text" if none).
// --speaker-script NAME=FILE (repeatable) gives a speaker its own script: a transcription session whose prompt holds
// "[speaker:NAME]" or ends with the line "Speaker: NAME.", or whose transcription language is NAME, takes its lines from FILE (see FakeRealtimeOptions.SpeakerScripts).
const string Usage = "usage: FakeRealtime [--port N] [--script FILE] [--speaker-script NAME=FILE]... [--api-key KEY] [--lifetime-seconds N] " +
    "[--refuse-upgrades 429[:SECONDS]|500|STATUS|hangup] [--close-after-session-created] [--oversized-message-bytes N] " +
    "[--hostile-text delta-flood|huge-text|unknown-items]";

var port = 8089;
FakeScript script = FakeScript.FromLines([]);
var speakerScripts = new Dictionary<string, FakeScript>(StringComparer.OrdinalIgnoreCase);
var apiKey = "test-key";
TimeSpan? lifetime = TimeSpan.FromMinutes(60);
UpgradeRefusal? refuseUpgrades = null;
var hangUpUpgrades = false;
var closeAfterSessionCreated = false;
int? oversizedMessageBytes = null;
var hostileText = HostileTextMode.None;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        if (args[i] == "--close-after-session-created")
        {
            closeAfterSessionCreated = true;
            continue;
        }

        if (args[i] is not ("--port" or "--script" or "--speaker-script" or "--api-key" or "--lifetime-seconds" or "--refuse-upgrades" or "--oversized-message-bytes" or "--hostile-text"))
        {
            throw new ArgumentException($"Unknown option '{args[i]}'.");
        }

        var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
        switch (args[i])
        {
            case "--port":
                port = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "--script":
                script = FakeScript.FromFile(value);
                break;
            case "--speaker-script":
                var split = value.IndexOf('=', StringComparison.Ordinal);
                if (split <= 0 || split == value.Length - 1 || value[..split].Contains(']', StringComparison.Ordinal))
                {
                    throw new ArgumentException($"--speaker-script '{value}': expected NAME=FILE (NAME without ']'), e.g. guest=guest-lines.txt.");
                }

                if (!speakerScripts.TryAdd(value[..split].Trim(), FakeScript.FromFile(value[(split + 1)..].Trim())))
                {
                    throw new ArgumentException($"--speaker-script: the speaker '{value[..split].Trim()}' is given twice.");
                }

                break;
            case "--api-key":
                apiKey = value;
                break;
            case "--lifetime-seconds":
                lifetime = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));
                break;
            case "--refuse-upgrades":
                hangUpUpgrades = value == "hangup";
                refuseUpgrades = hangUpUpgrades ? null : UpgradeRefusal.Parse(value);
                break;
            case "--oversized-message-bytes":
                oversizedMessageBytes = int.Parse(value, CultureInfo.InvariantCulture) is var bytes and > 0
                    ? bytes
                    : throw new ArgumentException("--oversized-message-bytes must be at least 1.");
                break;
            case "--hostile-text":
                hostileText = value switch
                {
                    "delta-flood" => HostileTextMode.DeltaFlood,
                    "huge-text" => HostileTextMode.HugeText,
                    "unknown-items" => HostileTextMode.UnknownItems,
                    _ => throw new ArgumentException($"--hostile-text '{value}': expected delta-flood, huge-text or unknown-items."),
                };
                break;
            default:
                throw new ArgumentException($"Unknown option '{args[i]}'.");
        }

        i++;
    }
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or IOException)
{
    await Console.Error.WriteLineAsync(ex.Message);
    await Console.Error.WriteLineAsync(Usage);
    return 2;
}

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions
{
    Port = port,
    Script = script,
    SpeakerScripts = speakerScripts,
    ApiKey = apiKey,
    SessionLifetime = lifetime,
    RefuseUpgrades = refuseUpgrades,
    HangUpUpgrades = hangUpUpgrades,
    CloseAfterSessionCreated = closeAfterSessionCreated,
    OversizedMessageBytes = oversizedMessageBytes,
    HostileText = hostileText,
    MinimumLogLevel = LogLevel.Information,
});
Console.WriteLine($"FakeRealtime listening on {server.Endpoint}");
await stop.Task;
return 0;
