"""Embedded word lists for the synthetic region: common given names and surnames, place words.

Every person the generator makes is a random combination of these common names; no real record is
used anywhere. Surname groups let names loosely follow the generated race/ethnicity mix.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_FIRST: tuple[str, ...] = _words(
    """
    Olivia Emma Charlotte Amelia Sophia Mia Isabella Ava Evelyn Luna Harper Sofia Camila Eleanor
    Elizabeth Violet Scarlett Emily Hazel Lily Gianna Aurora Penelope Aria Nora Chloe Ellie Mila
    Avery Layla Abigail Ella Isla Eliana Nova Madison Zoe Ivy Grace Lucy Willow Emilia Riley Naomi
    Victoria Stella Elena Hannah Valentina Maya Zoey Delilah Leah Lainey Lillian Paisley Genesis
    Madelyn Sadie Sophie Leilani Addison Natalie Josephine Alice Ruby Claire Kinsley Everly Emery
    Adeline Kennedy Maeve Audrey Autumn Athena Eden Iris Anna Eloise Jade Maria Caroline Brooklyn
    Quinn Aaliyah Vivian Liliana Gabriella Hailey Sarah Savannah Cora Madeline Natalia Ariana
    Lydia Lyla Clara Allison Aubrey Mackenzie Daisy Ximena Fatima Guadalupe Daniela Valeria
    Jimena Renata Lucia Mariana Andrea Alejandra Yesenia Priya Ananya Aisha Amina Hana Yuna Mei
    Linh Mai Thao Ngoc Jasmine Destiny Imani Kiara Nia Malia Kalani Keira Sienna Tessa Margaret
    Rose Julia Faith Jordyn Alyssa Kaylee Morgan Taylor Rachel Rebecca Megan Ashley Jessica
    """
)

MALE_FIRST: tuple[str, ...] = _words(
    """
    Liam Noah Oliver James Elijah Mateo Theodore Henry Lucas William Benjamin Levi Sebastian Jack
    Ezra Michael Daniel Leo Owen Samuel Hudson Alexander Asher Luca Ethan John David Jackson
    Joseph Mason Luke Matthew Julian Dylan Elias Jacob Maverick Gabriel Logan Aiden Thomas Isaac
    Miles Grayson Santiago Anthony Wyatt Carter Jayden Ezekiel Caleb Cooper Josiah Charles
    Christopher Isaiah Nolan Cameron Nathan Joshua Kai Waylon Angel Lincoln Andrew Roman Adrian
    Aaron Wesley Ian Thiago Axel Brooks Bennett Weston Rowan Christian Theo Beau Eli Silas Jonathan
    Ryan Leonardo Walker Jaxon Micah Everett Robert Enzo Parker Jeremiah Jose Colton Luka Easton
    Diego Juan Carlos Luis Miguel Alejandro Emiliano Jesus Eduardo Fernando Javier Ricardo
    Rafael Arjun Rohan Aarav Vikram Omar Yusuf Ahmed Ali Hiro Kenji Minh Duc Huy Tuan Jun
    Marcus Malik Darius Andre Jamal Terrence Isaiah Keoni Makoa Kainoa Tyler Brandon Kevin
    Justin Eric Steven Timothy Patrick Sean Travis Derek Austin Cody Trevor Garrett Spencer
    """
)

#: Surnames by loose origin group; the generator mixes groups to follow the race/ethnicity draw.
SURNAMES: dict[str, tuple[str, ...]] = {
    "general": _words(
        """
        Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
        Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill
        Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards
        Collins Stewart Morris Rogers Reed Cook Morgan Bell Murphy Bailey Cooper Richardson Cox Howard
        Ward Peterson Gray James Watson Brooks Kelly Sanders Price Bennett Wood Barnes Ross Henderson
        Coleman Jenkins Perry Powell Long Patterson Hughes Washington Butler Simmons Foster Bryant
        Alexander Russell Griffin Hayes Myers Ford Hamilton Graham Sullivan Wallace West Cole Jordan
        Reynolds Fisher Ellis Harrison Gibson McDonald Marshall Owens Olson Larson Hansen Nielsen
        Lindgren Berg Johansson Erickson Swanson Lund Schmidt Schneider Becker Wagner Meyer Weber
        O'Brien Murray Quinn Kennedy Ryan Doyle Walsh Novak Kowalski Petrov Ivanenko Kovalenko
        """
    ),
    "hispanic": _words(
        """
        Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores
        Rivera Gomez Diaz Reyes Morales Cruz Ortiz Gutierrez Chavez Ramos Ruiz Alvarez Mendoza
        Castillo Jimenez Vasquez Moreno Herrera Medina Aguilar Vargas Guzman Mendez Salazar Soto
        Delgado Pena Rios Contreras Sandoval Guerrero Estrada Navarro Cervantes Ochoa Zamora
        Valencia Ibarra Cardenas Fuentes Espinoza Cabrera Campos Juarez Lara Maldonado Villanueva
        """
    ),
    "asian": _words(
        """
        Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Ho Ngo Duong Ly Wang Li Zhang Liu Chen Yang
        Huang Zhao Wu Zhou Xu Sun Ma Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Santos Reyes Cruz
        Bautista Ocampo Mendoza Dela Cruz Patel Shah Singh Kumar Sharma Gupta Reddy Rao Iyer Nair
        Tanaka Suzuki Sato Watanabe Yamamoto Nakamura Kobayashi Ito
        """
    ),
    "african": _words(
        """
        Mohamed Ahmed Hassan Ali Abdi Farah Osman Warsame Tesfaye Bekele Alemu Haile Girma Okafor
        Adeyemi Mensah Owusu Diallo Traore Kamara Johnson Williams Jackson Washington Jefferson
        Banks Freeman Robinson Coleman Harris
        """
    ),
    "pacific": _words(
        """
        Kealoha Kahale Akana Makoa Nakoa Fonoti Leota Tuilagi Faleolo Tupou Taufa Fifita Kaufusi
        Mahe Sione Tuiasosopo Salave'a Aumua
        """
    ),
    "native": _words(
        """
        Jim Charlie Yellowhorse Begay Tsosie Cayuse Whitefeather Running Bull Sampson Lewis
        George Jack Joseph Frank Tom Moses Peter Sam James Adams
        """
    ),
}

#: Words for synthetic district and school names.
PLACE_WORDS: tuple[str, ...] = _words(
    """
    Alder Aspen Bayview Birch Cascade Cedar Clearwater Cottonwood Crestview Deer Eagle Elk Evergreen
    Fern Fir Glacier Hawthorn Heron Hemlock Highland Juniper Lakeview Larch Madrona Maple Meadow
    Mill Creek Mountain Orca Osprey Pine Rainier Raven Ridge River Rockport Salmon Sequoia Shore
    Silver Spruce Stone Summit Sunrise Tamarack Timber Tide Valley Willow Wolf Cove Falls Harbor
    """
)

DISTRICT_SUFFIXES: tuple[str, ...] = ("Valley", "Creek", "Harbor", "Plains", "Heights", "Point", "Ridge")
