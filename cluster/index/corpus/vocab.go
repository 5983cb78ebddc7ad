package corpus

// The vocabulary of the generated corpus. A topic has subjects (what a
// video is about), formats (what kind of video it is, each with title
// templates) and channels. The relevance labels in
// cluster/index/testdata/relevance.json name these keys, never video IDs:
// a label says "a Valorant tournament video is what this query wants", and
// the generator knows which videos are that.

// topic is one area of the corpus.
type topic struct {
	key      string
	tag      string
	subjects []subject
	formats  []format
	owners   []string
	// filler are description sentences; {S} is the subject's name.
	filler []string
}

// subject is what a video is about. names are the spellings titles use
// (with accents where the language has them); tags the owners' tags for it.
type subject struct {
	key   string
	names []string
	tags  []string
}

// format is a kind of video. titles contain {S} (the subject's name)
// where the subject is named; generic titles leave it out and the subject
// shows only in tags and description, as on real sites.
type format struct {
	key      string
	tags     []string
	titles   []string
	generic  []string
	duration [2]float64 // seconds, min and max
}

// songs are what covers are of.
var songs = []struct{ key, name string }{
	{"fur-elise", "Für Elise"},
	{"clair-de-lune", "Clair de Lune"},
	{"hallelujah", "Hallelujah"},
	{"wonderwall", "Wonderwall"},
	{"bohemian-rhapsody", "Bohemian Rhapsody"},
	{"la-vie-en-rose", "La Vie en Rose"},
}

// teams are used in sports highlight titles.
var teams = []string{"Riverside", "Northgate", "Harbor City", "Eastfield", "Bergstadt", "São Vicente", "Lakeview", "Old Town"}

// things are what tech projects build.
var things = []string{"weather station", "media server", "retro console", "smart mirror", "home dashboard", "network monitor"}

// lifestyle videos are about nothing the queries ask for: the background
// every real site has.
var lifestyle = []string{
	"Q&A: answering your questions",
	"Channel update and what's next",
	"My morning routine",
	"A quiet Sunday at home",
	"Reacting to your comments",
	"Desk tour and a small announcement",
	"What I learned this year",
	"Packing for a long weekend",
	"Trying a new hobby for 30 days",
	"Studio cleanup and storage ideas",
}

var lifestyleOwners = []string{"daily_dose_dee", "just_sam", "the_quiet_hour"}

var lifestyleFiller = []string{
	"Thanks for watching and for all your messages.",
	"Let me know in the comments what you want to see next.",
	"This one is a bit different from my usual videos.",
	"I filmed this over a couple of days, so the light changes a lot.",
	"Music by a friend of the channel, link below.",
}

var topics = []topic{
	{
		key: "gaming", tag: "gaming",
		owners: []string{"pixel_panda", "frag_queen", "retro_rick", "noscope_nina"},
		subjects: []subject{
			{"valorant", []string{"Valorant"}, []string{"valorant", "fps"}},
			{"minecraft", []string{"Minecraft"}, []string{"minecraft"}},
			{"zelda", []string{"Zelda: Tears of the Kingdom", "Zelda TOTK"}, []string{"zelda", "totk", "nintendo"}},
			{"pokemon", []string{"Pokémon Scarlet", "Pokémon"}, []string{"pokémon", "pokemon", "nintendo"}},
			{"eldenring", []string{"Elden Ring"}, []string{"elden ring", "soulslike"}},
			{"fortnite", []string{"Fortnite"}, []string{"fortnite", "battle royale"}},
			{"stardew", []string{"Stardew Valley"}, []string{"stardew valley", "farming sim"}},
			{"lol", []string{"League of Legends"}, []string{"league of legends", "lol", "moba"}},
			{"cs2", []string{"Counter-Strike 2", "CS2"}, []string{"cs2", "counter-strike", "fps"}},
			{"mariokart", []string{"Mario Kart 8"}, []string{"mario kart", "nintendo"}},
		},
		formats: []format{
			{"tournament", []string{"tournament", "esports"}, []string{"{S} tournament grand finals", "{S} tournament: quarter-final recap", "Road to the {S} championship, tournament day {N}"}, []string{"Tournament day {N}: what a finish", "We entered a tournament and this happened"}, [2]float64{1800, 7200}},
			{"highlights", []string{"highlights"}, []string{"{S} highlights #{N}", "Best {S} plays of the week", "Insane {S} clutch highlights"}, []string{"Best plays of the week #{N}"}, [2]float64{300, 900}},
			{"speedrun", []string{"speedrun"}, []string{"{S} any% speedrun in {N} minutes", "{S} speedrun world record attempt"}, []string{"New personal best! Speedrun attempt #{N}"}, [2]float64{600, 3600}},
			{"guide", []string{"guide", "tips"}, []string{"{S} beginner guide", "Complete {S} guide for new players", "{S} tips and tricks you need to know"}, []string{"{N} tips every new player should know"}, [2]float64{400, 1500}},
			{"review", []string{"review"}, []string{"{S} review: is it worth playing?", "{S} review after 100 hours"}, []string{"Is it worth it? My honest review"}, [2]float64{600, 1800}},
			{"letsplay", []string{"let's play", "gameplay"}, []string{"{S} let's play part {N}", "Playing {S} for the first time"}, []string{"Let's play episode {N}"}, [2]float64{1200, 3600}},
			{"funny", []string{"funny", "compilation"}, []string{"{S} funny moments compilation", "{S} fails and funny moments #{N}"}, []string{"Funny moments compilation #{N}"}, [2]float64{200, 700}},
		},
		filler: []string{
			"Today we are playing {S} with the squad.",
			"Drop a like if you want more {S} content.",
			"Streamed live on Friday, edited for the channel.",
			"Settings and crosshair codes are in the pinned comment.",
			"Huge thanks to everyone who joined the stream.",
		},
	},
	{
		key: "cooking", tag: "cooking",
		owners: []string{"chef_marta", "nonna_rosa", "spice_route_sam", "the_bread_lab"},
		subjects: []subject{
			{"carbonara", []string{"pasta carbonara", "spaghetti carbonara"}, []string{"carbonara", "pasta", "italian"}},
			{"cremebrulee", []string{"crème brûlée"}, []string{"crème brûlée", "dessert", "french"}},
			{"sourdough", []string{"sourdough bread", "sourdough"}, []string{"sourdough", "bread", "baking"}},
			{"ramen", []string{"tonkotsu ramen", "ramen"}, []string{"ramen", "japanese", "noodles"}},
			{"paella", []string{"paella valenciana", "paella"}, []string{"paella", "spanish", "rice"}},
			{"tacos", []string{"tacos al pastor"}, []string{"tacos", "mexican"}},
			{"padthai", []string{"pad thai"}, []string{"pad thai", "thai", "noodles"}},
			{"croissant", []string{"croissants", "butter croissants"}, []string{"croissant", "baking", "french"}},
			{"jalapeno", []string{"jalapeño poppers"}, []string{"jalapeño", "snacks"}},
			{"curry", []string{"butter chicken curry", "chicken curry"}, []string{"curry", "indian"}},
		},
		formats: []format{
			{"recipe", []string{"recipe"}, []string{"How to make {S} at home", "The best {S} recipe", "Easy {S} recipe in {N} minutes"}, []string{"My grandmother's recipe, finally written down"}, [2]float64{300, 1200}},
			{"tastetest", []string{"taste test", "food review"}, []string{"Trying {S} at {N} restaurants", "{S} taste test: cheap vs expensive"}, []string{"Cheap vs expensive: blind taste test"}, [2]float64{600, 1500}},
			{"mealprep", []string{"meal prep"}, []string{"{S} meal prep for the week", "Meal prep: {S} five ways"}, []string{"Sunday meal prep for a busy week"}, [2]float64{600, 1400}},
			{"technique", []string{"technique", "chef tips"}, []string{"{S}: the one technique that matters", "Mastering {S}: chef's secrets"}, []string{"The technique nobody tells you about"}, [2]float64{240, 900}},
			{"quick", []string{"shorts", "quick"}, []string{"{S} in 60 seconds", "Quick {S} hack"}, []string{"60 second kitchen hack"}, [2]float64{30, 90}},
		},
		filler: []string{
			"Today I show you my favourite way to cook {S}.",
			"All ingredients and amounts are listed below.",
			"Subscribe for a new recipe every week!",
			"I use a cast iron pan, but any heavy pan works.",
			"Serve it warm with a glass of something nice.",
		},
	},
	{
		key: "music", tag: "music",
		owners: []string{"keys_and_strings", "drum_dan", "lofi_lounge", "maestra_elena"},
		subjects: []subject{
			{"guitar", []string{"guitar", "acoustic guitar"}, []string{"guitar"}},
			{"piano", []string{"piano"}, []string{"piano"}},
			{"drums", []string{"drums", "drum"}, []string{"drums"}},
			{"violin", []string{"violin"}, []string{"violin", "classical"}},
			{"jazz", []string{"jazz", "jazz trio"}, []string{"jazz"}},
			{"lofi", []string{"lo-fi hip hop", "lofi beats"}, []string{"lofi", "chill", "beats"}},
			{"synth", []string{"synthesizer", "modular synth"}, []string{"synth", "electronic"}},
			{"ukulele", []string{"ukulele"}, []string{"ukulele"}},
		},
		formats: []format{
			{"lesson", []string{"lesson", "tutorial"}, []string{"{S} lesson for beginners", "Learn {S}: lesson {N}", "Beginner {S} lessons, week {N}"}, []string{"Lesson {N}: finger exercises"}, [2]float64{600, 1800}},
			{"cover", []string{"cover"}, []string{"{Song} on {S}", "{Song} ({S} cover)"}, []string{"{Song}, my version"}, [2]float64{180, 420}},
			{"live", []string{"live"}, []string{"Live {S} session at the café", "{S} live concert, full set"}, []string{"Live at the café, full set"}, [2]float64{1800, 5400}},
			{"improv", []string{"improvisation"}, []string{"{S} improvisation #{N}", "Late night {S} improvisation"}, []string{"Late night improvisation #{N}"}, [2]float64{240, 900}},
			{"gear", []string{"gear", "review"}, []string{"{S} gear review: budget vs pro", "Best {S} gear under 500"}, []string{"Budget gear that sounds expensive"}, [2]float64{600, 1500}},
			{"playlist", []string{"playlist", "study"}, []string{"{S} playlist to study and relax", "{N} hours of {S} to focus"}, []string{"Music to study and relax"}, [2]float64{3600, 10800}},
		},
		filler: []string{
			"Recorded in one take with a single microphone.",
			"Sheet music and tabs for this {S} piece are on my site.",
			"Practice slowly first, speed comes later.",
			"Headphones recommended.",
			"Thank you to my patrons for making this possible.",
		},
	},
	{
		key: "travel", tag: "travel",
		owners: []string{"wanderlust_ana", "nomad_nico", "slow_travel_jo", "backpack_bea"},
		subjects: []subject{
			{"kyoto", []string{"Kyoto"}, []string{"kyoto", "japan"}},
			{"saopaulo", []string{"São Paulo"}, []string{"são paulo", "brazil"}},
			{"reykjavik", []string{"Reykjavík"}, []string{"reykjavík", "iceland"}},
			{"zurich", []string{"Zürich"}, []string{"zürich", "switzerland"}},
			{"marrakech", []string{"Marrakech"}, []string{"marrakech", "morocco"}},
			{"lisbon", []string{"Lisbon"}, []string{"lisbon", "portugal"}},
			{"patagonia", []string{"Patagonia"}, []string{"patagonia", "hiking"}},
			{"bali", []string{"Bali"}, []string{"bali", "indonesia"}},
			{"montreal", []string{"Montréal"}, []string{"montréal", "canada"}},
			{"bangkok", []string{"Bangkok"}, []string{"bangkok", "thailand"}},
		},
		formats: []format{
			{"vlog", []string{"travel vlog", "vlog"}, []string{"{S} travel vlog: {N} days", "First time in {S}!", "{S} vlog, day {N}"}, []string{"Travel vlog day {N}: missed the train again"}, [2]float64{600, 1800}},
			{"walkingtour", []string{"walking tour", "4k"}, []string{"{S} walking tour (4K)", "Walking tour of {S} old town"}, []string{"Early morning walking tour, no talking"}, [2]float64{1800, 5400}},
			{"streetfood", []string{"street food", "food"}, []string{"{S} street food tour", "Street food in {S}: what to eat"}, []string{"Eating only street food for 24 hours"}, [2]float64{600, 1800}},
			{"budget", []string{"budget travel", "travel guide"}, []string{"{S} on a budget: travel guide", "How to visit {S} cheap"}, []string{"How I travel on 30 a day"}, [2]float64{600, 1500}},
			{"thingstodo", []string{"things to do", "travel guide"}, []string{"Top {N} things to do in {S}", "{S} travel guide: things to do"}, []string{"Top {N} things I wish I had known before"}, [2]float64{480, 1200}},
			{"drone", []string{"drone", "4k"}, []string{"{S} from above: drone footage", "{S} drone film"}, []string{"Cinematic drone film"}, [2]float64{120, 600}},
		},
		filler: []string{
			"We spent a week in {S} and this is what we found.",
			"Prices and addresses are in the description below.",
			"Filmed on a phone and a small gimbal.",
			"Best time to visit is spring or autumn.",
			"If you have tips for our next trip, leave a comment!",
		},
	},
	{
		key: "tech", tag: "tech",
		owners: []string{"byte_size_dev", "gadget_gus", "homelab_hana", "terminal_tom"},
		subjects: []subject{
			{"golang", []string{"Go", "Golang"}, []string{"golang", "go", "programming"}},
			{"rust", []string{"Rust"}, []string{"rust", "programming"}},
			{"kubernetes", []string{"Kubernetes"}, []string{"kubernetes", "k8s", "devops"}},
			{"raspberrypi", []string{"Raspberry Pi", "Raspberry Pi 5"}, []string{"raspberry pi", "electronics"}},
			{"linux", []string{"Linux"}, []string{"linux", "open source"}},
			{"keyboard", []string{"mechanical keyboard"}, []string{"mechanical keyboard", "keyboards"}},
			{"iphone", []string{"iPhone 16"}, []string{"iphone", "apple", "smartphone"}},
			{"homelab", []string{"home lab", "homelab"}, []string{"homelab", "self-hosted"}},
			{"docker", []string{"Docker"}, []string{"docker", "containers", "devops"}},
			{"python", []string{"Python"}, []string{"python", "programming"}},
		},
		formats: []format{
			{"tutorial", []string{"tutorial"}, []string{"{S} tutorial for beginners", "{S} crash course", "Learn {S} in one hour"}, []string{"Crash course for absolute beginners"}, [2]float64{1200, 5400}},
			{"review", []string{"review"}, []string{"{S} review", "{S} long-term review"}, []string{"Six months later: honest review"}, [2]float64{480, 1200}},
			{"unboxing", []string{"unboxing"}, []string{"{S} unboxing and first impressions"}, []string{"Unboxing and first impressions"}, [2]float64{300, 900}},
			{"setup", []string{"setup", "desk setup"}, []string{"My {S} setup tour", "Building a {S} setup"}, []string{"Setup tour {N}"}, [2]float64{480, 1200}},
			{"tips", []string{"tips"}, []string{"{N} {S} tips I wish I knew earlier", "{S} tips for productivity"}, []string{"{N} tips I wish I knew earlier"}, [2]float64{300, 900}},
			{"project", []string{"project", "diy"}, []string{"{S} project: build a {Thing}", "Weekend {S} project"}, []string{"Weekend project: a {Thing}"}, [2]float64{600, 2400}},
		},
		filler: []string{
			"Code and config files are on GitHub, link below.",
			"This {S} video was requested by many of you.",
			"Timestamps are in the pinned comment.",
			"Some links are affiliate links; they support the channel.",
			"Questions? Ask in the comments, I read them all.",
		},
	},
	{
		key: "sports", tag: "sports",
		owners: []string{"courtside_carl", "trail_tessa", "pitchside_pete", "peak_performance"},
		subjects: []subject{
			{"football", []string{"football"}, []string{"football"}},
			{"basketball", []string{"basketball"}, []string{"basketball", "nba"}},
			{"tennis", []string{"tennis"}, []string{"tennis"}},
			{"climbing", []string{"bouldering"}, []string{"bouldering", "climbing"}},
			{"cycling", []string{"Tour de France", "road cycling"}, []string{"cycling", "tour de france"}},
			{"skiing", []string{"skiing"}, []string{"skiing", "winter"}},
			{"surfing", []string{"surfing"}, []string{"surfing", "ocean"}},
			{"marathon", []string{"marathon"}, []string{"marathon", "running"}},
			{"formula1", []string{"Formula 1", "F1"}, []string{"formula 1", "f1", "motorsport"}},
		},
		formats: []format{
			{"highlights", []string{"highlights"}, []string{"{S} highlights: {Team} vs {Team2}", "{S} season highlights"}, []string{"{Team} vs {Team2}: extended highlights"}, [2]float64{300, 900}},
			{"training", []string{"training", "workout"}, []string{"{S} training session", "{S} drills for beginners", "{S} training plan, week {N}"}, []string{"Training week {N}"}, [2]float64{600, 1800}},
			{"technique", []string{"technique", "coaching"}, []string{"Perfect your {S} technique", "{S} technique breakdown"}, []string{"The technique that changed everything"}, [2]float64{300, 900}},
			{"analysis", []string{"analysis", "tactics"}, []string{"{S} match analysis", "{S} tactics explained"}, []string{"Tactics explained: what went wrong"}, [2]float64{600, 1500}},
			{"documentary", []string{"documentary"}, []string{"The story of {S}: a documentary", "{S} documentary"}, []string{"A documentary about the last season"}, [2]float64{2400, 5400}},
		},
		filler: []string{
			"Filmed at our local club with the whole team.",
			"Full {S} session, no cuts.",
			"Let me know your questions about {S} below.",
			"Warm up properly before trying this.",
			"Big thanks to the coaches who helped with this video.",
		},
	},
}
