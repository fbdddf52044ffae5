using System.CommandLine;
using Nodes.Web;

namespace Nodes.Cli;

/// <summary>
/// <c>nodes extcap</c>: the lab's links as Wireshark capture interfaces, read from a running web view
/// (<c>nodes run FILE --web</c>). Wireshark calls it with its extcap options; <c>--install</c> puts it in Wireshark's
/// extcap folder and <c>--keys DIR</c> fetches the key files with which Wireshark decrypts what it captures.
/// </summary>
internal static class ExtcapCommand
{
    public static Command Create()
    {
        var interfaces = new Option<bool>("--extcap-interfaces") { Description = "(Wireshark) list the lab's links as interfaces" };
        var version = new Option<string?>("--extcap-version") { Description = "(Wireshark) the Wireshark version asking" };
        var iface = new Option<string?>("--extcap-interface") { Description = "(Wireshark) the interface the other options are about" };
        var dlts = new Option<bool>("--extcap-dlts") { Description = "(Wireshark) the interface's link-layer type" };
        var config = new Option<bool>("--extcap-config") { Description = "(Wireshark) the interface's options" };
        var capture = new Option<bool>("--capture") { Description = "(Wireshark) capture the interface into --fifo" };
        var fifo = new Option<string?>("--fifo") { Description = "(Wireshark) where the capture goes" };
        var filter = new Option<string?>("--extcap-capture-filter") { Description = "(Wireshark) a capture filter; a link's stream is not filtered, use a display filter" };
        var url = new Option<string?>("--url") { Description = $"The web view's address (default $NODES_WEB_URL, else http://127.0.0.1:{Commands.WebPort}/)" };
        var install = new Option<string?>("--install")
        {
            Description = "Write the extcap script into Wireshark's personal extcap folder (or this folder), so that every lab link shows up as an interface",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var keys = new Option<string?>("--keys") { Description = "Fetch esp_sa, ikev2_decryption_table and preferences from the web view into this folder (a Wireshark configuration folder)" };
        var command = new Command("extcap", "The links of a running lab's web view as Wireshark interfaces (Wireshark's extcap protocol)")
        {
            interfaces, version, iface, dlts, config, capture, fifo, filter, url, install, keys,
        };
        // Wireshark adds options of its own (--debug, --extcap-reload-option ...): they are not errors.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancel) =>
        {
            var address = parse.GetValue(url) ?? Extcap.DefaultUrl(Commands.WebPort);
            if (!Uri.TryCreate(address, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                Console.Error.WriteLine($"--url '{address}' is not an http address: give what nodes run FILE --web printed, e.g. http://127.0.0.1:{Commands.WebPort}/");
                return 2;
            }
            if (parse.GetResult(install) is not null)
            {
                var folder = parse.GetValue(install) ?? Extcap.PersonalFolder();
                var self = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
                    ? $"\"{p}\" \"{typeof(ExtcapCommand).Assembly.Location}\""
                    : $"\"{Environment.ProcessPath}\"";
                var script = Extcap.Install(folder, self);
                Console.WriteLine($"Wrote {script}: restart Wireshark (or Capture > Refresh Interfaces) and every link of a lab running with --web shows up as nodes-LINK.");
                Console.WriteLine($"For decryption: nodes extcap --keys ~/.config/wireshark (copies the lab's esp_sa, ikev2_decryption_table and preferences).");
                return 0;
            }
            if (parse.GetValue(keys) is { } keyFolder)
            {
                if (await Extcap.SaveKeysAsync(address, keyFolder, cancel) is { } problem)
                {
                    Console.Error.WriteLine(problem);
                    return 3;
                }
                Console.WriteLine($"Key files written to {keyFolder}: WIRESHARK_CONFIG_DIR={keyFolder} wireshark (or copy them into your profile) decrypts IKE and ESP.");
                return 0;
            }
            if (parse.GetValue(interfaces))
            {
                Console.Out.Write(Extcap.Interfaces(await Extcap.LinksAsync(address, cancel), "1.0"));
                return 0;
            }
            var name = parse.GetValue(iface);
            if (name is null)
            {
                Console.Error.WriteLine("nodes extcap is called by Wireshark (--extcap-interfaces, then --extcap-interface NAME with --extcap-dlts, --extcap-config or --capture --fifo PATH); to set it up run nodes extcap --install");
                return 2;
            }
            if (parse.GetValue(dlts))
            {
                Console.Out.Write(Extcap.Dlts());
                return 0;
            }
            if (parse.GetValue(config))
            {
                Console.Out.Write(Extcap.Config(address));
                return 0;
            }
            if (parse.GetValue(capture))
            {
                if (parse.GetValue(fifo) is not { } target)
                {
                    Console.Error.WriteLine("--capture needs --fifo PATH (Wireshark gives it)");
                    return 2;
                }
                if (await Extcap.CaptureAsync(address, name, target, cancel) is { } problem)
                {
                    Console.Error.WriteLine(problem);
                    return 1;
                }
                return 0;
            }
            Console.Error.WriteLine($"--extcap-interface {name}: say what to do with it (--extcap-dlts, --extcap-config, or --capture --fifo PATH)");
            return 2;
        });
        return command;
    }
}
